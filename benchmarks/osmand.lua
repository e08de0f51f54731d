-- wrk script: POST /ingreso/osmand/ as Traccar Client 10 sends it (one form-encoded position per
-- request) for random devices "bench-<efectivo id>" of efectivos ID_BASE..ID_BASE+EFECTIVOS-1,
-- each a few tens of metres from its previous fix. The timestamp is in milliseconds (Traccar's
-- server reads both), unique per request, so no resend is counted as a duplicate.
local efectivos = tonumber(os.getenv("EFECTIVOS") or "10000")
local id_base = tonumber(os.getenv("ID_BASE") or "1")
local posiciones = {}
local n = 0
local semilla_hilo = 0

function setup(thread)
  semilla_hilo = semilla_hilo + 1
  thread:set("semilla", semilla_hilo)
end

function init(args)
  math.randomseed(os.time() * 1000 + (semilla or 0))
end

local function lugar(efectivo)
  local p = posiciones[efectivo]
  if p == nil then
    p = {-34.70 + math.random() * 0.17, -58.53 + math.random() * 0.19}
    posiciones[efectivo] = p
  end
  local paso, rumbo = (10 + math.random() * 40) / 111000, math.random() * 2 * math.pi
  p[1] = p[1] + paso * math.sin(rumbo)
  p[2] = p[2] + paso * math.cos(rumbo) / 0.823
  return p[1], p[2]
end

function request()
  n = n + 1
  local efectivo = id_base + math.random(0, efectivos - 1)
  local lat, lon = lugar(efectivo)
  local cuerpo = string.format(
    "id=bench-%d&lat=%.6f&lon=%.6f&timestamp=%d%03d&accuracy=%.1f&altitude=25.0&speed=%.2f&bearing=%.1f&batt=%.1f&charge=false",
    efectivo, lat, lon, os.time(), n % 1000, 3 + math.random() * 12, math.random() * 10, math.random() * 360, 20 + math.random() * 80)
  return wrk.format("POST", "/ingreso/osmand/", {["Content-Type"] = "application/x-www-form-urlencoded"}, cuerpo)
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "segundos": %.3f, "errores_http": %d, "errores_socket": %d, "lat_ms": {"p50": %.2f, "p95": %.2f, "p99": %.2f, "max": %.2f}}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
