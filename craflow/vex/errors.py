"""The errors of the VEX layer: one line each, meant for the user.

```
VexError                   anything that stops a VEX document being read, written or applied
├── VexInputError          bad triage input: unknown status or justification, missing
│                          justification for not_affected, notes too long, unknown finding
├── VexFileNotFoundError   the input file does not exist
├── VexFormatError         not JSON, not one of the three formats, too deep, unsafe
│   └── VexTooLargeError   the file (or its statement count) is over the limit
└── VexSchemaError         a document breaks its official schema (never written)
```

The commands map these to exit codes in one place (`craflow.commands.triage.exit_code_for`).
"""


class VexError(Exception):
    """A one-line, user-facing reason."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class VexInputError(VexError):
    """Triage input the platform would refuse (or that names nothing)."""


class VexFileNotFoundError(VexError):
    """The VEX file named does not exist."""


class VexFormatError(VexError):
    """The input is not a VEX document craflow can read."""


class VexTooLargeError(VexFormatError):
    """The input is larger than the configured limit."""


class VexSchemaError(VexError):
    """A document craflow built does not validate against its official schema."""
