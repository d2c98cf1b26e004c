"""The Lua scripts of the shared budget (run atomically in Redis, on Redis' own clock).

Per bucket two keys: `<key>` holds the next free slot (the GCRA's theoretical arrival
time, microseconds) and `<key>:pace` a hash of what every process has learned from 429s:
the pace after the last cut (`cut`, a fraction of the configured rate), when it was cut
(`cut_at`), the recovery ceiling (`ceiling`), the jitter allowance in microseconds
(`jitter`) and when it was last widened (`widened_at`). The arithmetic is the local
pacer's (craflow/api/smooth.py), so one process and N processes adapt alike.

Shared arguments (ARGV, after each script's own): interval (configured rate / headroom,
µs), starting jitter allowance (µs), recovery per second (fraction of the rate).
"""

# fraction(now): min(1, cut + recover * since, ceiling + 0.01 * since)
_PACE = """
local function now_micros()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function learned(key, default_jitter)
  local h = redis.call('HMGET', key, 'cut', 'cut_at', 'ceiling', 'jitter', 'widened_at')
  return {
    cut = tonumber(h[1]) or 1.0, cut_at = tonumber(h[2]) or -1e18,
    ceiling = tonumber(h[3]) or 1.0, jitter = tonumber(h[4]) or default_jitter,
    widened_at = tonumber(h[5]) or -1e18,
  }
end
local function fraction(p, now, recover)
  local since = math.max(0, now - p.cut_at) / 1000000
  return math.min(1.0, p.cut + recover * since, p.ceiling + 0.01 * since)
end
local function spacing(p, now, interval, recover)
  return interval / fraction(p, now, recover) + p.jitter
end
local function hold(key, now, wait)
  local tat = tonumber(redis.call('GET', key) or '0')
  local after = math.max(tat, now + wait)
  local ttl = math.ceil((after - now) / 1000) + 60000
  redis.call('SET', key, string.format('%d', after), 'PX', ttl)
  return after
end
"""

#: KEYS: slot key, pace key. ARGV: interval, jitter, recover. Returns {wait µs, slot µs}.
RESERVE = (
    _PACE
    + """
local now = now_micros()
local interval, jitter, recover = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local p = learned(KEYS[2], jitter)
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(tat, now)
local after = slot + spacing(p, slot, interval, recover)
local ttl = math.ceil((after - now) / 1000) + 60000
redis.call('SET', KEYS[1], string.format('%d', after), 'PX', ttl)
return {slot - now, slot}
"""
)

#: KEYS: slot key. ARGV: hold µs. Returns the new next slot minus now (µs).
HOLD = (
    _PACE
    + """
local now = now_micros()
return hold(KEYS[1], now, tonumber(ARGV[1])) - now
"""
)

#: A 429. KEYS: slot key, pace key. ARGV: interval, jitter, recover, retry-after µs (-1:
#: none), the slot the throttled request was sent in (-1: unknown), max jitter µs,
#: decrease, pace-memory ms. Returns the pace now, as a fraction, times 1e6.
THROTTLED = (
    _PACE
    + """
local now = now_micros()
local interval, jitter, recover = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local retry_after, sent = tonumber(ARGV[4]), tonumber(ARGV[5])
local max_jitter, decrease, memory = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local p = learned(KEYS[2], jitter)
local stale = sent >= 0 and sent <= p.widened_at
if retry_after < 0 and (stale or p.jitter < max_jitter) then
  hold(KEYS[1], now, spacing(p, now, interval, recover))
  if not stale then
    p.jitter = math.min(max_jitter, math.max(2 * p.jitter, p.jitter + 2000))
    redis.call('HSET', KEYS[2], 'jitter', string.format('%d', p.jitter),
      'widened_at', string.format('%d', now))
    redis.call('PEXPIRE', KEYS[2], memory)
  end
  return math.floor(fraction(p, now, recover) * 1000000)
end
local wait = retry_after
if wait < 0 then wait = 2 * spacing(p, now, interval, recover) end
hold(KEYS[1], now, wait)
if sent < 0 or sent > p.cut_at then
  local current = fraction(p, now, recover)
  p.ceiling = math.max(0.05, current * 0.95)
  p.cut = math.max(0.05, current * decrease)
  p.cut_at = now
  redis.call('HSET', KEYS[2], 'cut', tostring(p.cut), 'ceiling', tostring(p.ceiling),
    'cut_at', string.format('%d', now))
  redis.call('PEXPIRE', KEYS[2], memory)
end
return math.floor(fraction(p, now, recover) * 1000000)
"""
)

#: Just before sending, after sleeping to the reserved slot. KEYS: sent key, pace key.
#: ARGV: interval, jitter, recover. Returns 0 (go: recorded as the last send) or the µs
#: still to wait because another process sent less than one spacing ago (it woke late).
CONFIRM = (
    _PACE
    + """
local now = now_micros()
local interval, jitter, recover = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local p = learned(KEYS[2], jitter)
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local earliest = last + spacing(p, now, interval, recover)
if last > 0 and now < earliest then
  return math.ceil(earliest - now)
end
redis.call('SET', KEYS[1], string.format('%d', now), 'PX', 600000)
return 0
"""
)
