-- wrk script: POST /api/v1/posiciones/ with LOTE readings for random efectivos (ids 1..EFECTIVOS)
-- spread over the operating area. Every reading has a fresh UUID and a device time that moves
-- forward, so each is stored and evaluated against the geofences. MISMO=1: every reading of a
-- request is of one efectivo (a phone emptying its buffer) instead of LOTE random efectivos.
-- RECORRIDO=1: each efectivo moves 10-50 m from its previous reading (a patrol's track) instead of
-- jumping anywhere in the area: random jumps cross a fence's edge at every other reading (an alert
-- each time, the engine's worst case); tracks cross one now and then, as in the field.
local lote = tonumber(os.getenv("LOTE") or "100")
local efectivos = tonumber(os.getenv("EFECTIVOS") or "10000")
local id_base = tonumber(os.getenv("ID_BASE") or "1")
local token = os.getenv("TOKEN")
local mismo = os.getenv("MISMO") == "1"
local recorrido = os.getenv("RECORRIDO") == "1"
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

local function uuid()
  local t = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"
  return (string.gsub(t, "[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end

local function lugar(efectivo)
  if not recorrido then
    return -34.70 + math.random() * 0.17, -58.53 + math.random() * 0.19
  end
  local p = posiciones[efectivo]
  if p == nil then
    p = {-34.70 + math.random() * 0.17, -58.53 + math.random() * 0.19}
    posiciones[efectivo] = p
  end
  local paso, rumbo = (10 + math.random() * 40) / 111000, math.random() * 2 * math.pi
  p[1] = p[1] + paso * math.sin(rumbo)
  p[2] = p[2] + paso * math.cos(rumbo) / 0.823 -- cos(34.6 degrees)
  return p[1], p[2]
end

function request()
  n = n + 1
  local ahora = os.date("!%Y-%m-%dT%H:%M:%S")
  local partes = {}
  local propio = id_base + math.random(0, efectivos - 1)
  for i = 1, lote do
    local efectivo = mismo and propio or (id_base + math.random(0, efectivos - 1))
    local lat, lon = lugar(efectivo)
    partes[i] = string.format(
      '{"id_cliente":"%s","efectivo":%d,"lat":%.6f,"lon":%.6f,"registrada_en":"%s.%06dZ","precision_m":%.1f}',
      uuid(), efectivo, lat, lon, ahora, (n * lote + i) % 1000000, 3 + math.random() * 12)
  end
  local cuerpo = (lote == 1) and partes[1] or ("[" .. table.concat(partes, ",") .. "]")
  return wrk.format("POST", "/api/v1/posiciones/", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, cuerpo)
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "segundos": %.3f, "errores_http": %d, "errores_socket": %d, "lat_ms": {"p50": %.2f, "p95": %.2f, "p99": %.2f, "max": %.2f}}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
