-- wrk script: GET vector tiles in turn from a list of paths (env TILES, comma-separated), signed
-- in with a session cookie (env COOKIE), as the map does, or with a JWT (env AUTORIZACION: the whole
-- Authorization header), as a phone or a script does.
local rutas = {}
for r in string.gmatch(os.getenv("TILES") or "", "[^,]+") do rutas[#rutas + 1] = r end
local cookie = os.getenv("COOKIE")
local autorizacion = os.getenv("AUTORIZACION")
local cabeceras = {}
if autorizacion and autorizacion ~= "" then cabeceras["Authorization"] = autorizacion else cabeceras["Cookie"] = cookie end
local n = 0
local semilla_hilo = 0

function setup(thread)
  semilla_hilo = semilla_hilo + 1
  thread:set("desplazamiento", semilla_hilo * 997)
end

function request()
  n = n + 1
  local ruta = rutas[((n + (desplazamiento or 0)) % #rutas) + 1]
  return wrk.format("GET", ruta, cabeceras)
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "segundos": %.3f, "errores_http": %d, "errores_socket": %d, "lat_ms": {"p50": %.2f, "p95": %.2f, "p99": %.2f, "max": %.2f}}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
