// Calls to the project's API from the map page (session cookie + CSRF token). Errors arrive in the
// project's shape {"error": {"codigo", "mensaje", "detalle"}} and are thrown with that message.

function csrf() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export class ErrorApi extends Error {
  constructor(estado, cuerpo) {
    const e = (cuerpo && cuerpo.error) || {};
    super(e.mensaje || `Error ${estado}`);
    this.estado = estado;
    this.codigo = e.codigo;
    this.detalle = e.detalle;
  }
}

export async function pedir(url, { metodo = "GET", cuerpo } = {}) {
  const opciones = { method: metodo, credentials: "same-origin", headers: { Accept: "application/json" } };
  // Every unsafe method carries the CSRF token, with a body or without (an action like "revocar").
  if (metodo !== "GET") opciones.headers["X-CSRFToken"] = csrf();
  if (cuerpo !== undefined) {
    opciones.headers["Content-Type"] = "application/json";
    opciones.body = JSON.stringify(cuerpo);
  }
  const r = await fetch(url, opciones);
  if (r.status === 401 || r.status === 403) {
    if (r.status === 401) window.location.assign(`/login/?next=${encodeURIComponent(location.pathname)}`);
  }
  const texto = await r.text();
  const datos = texto ? JSON.parse(texto) : null;
  if (!r.ok) throw new ErrorApi(r.status, datos);
  return datos;
}

export function detalleTexto(err) {
  // A validation error names the fields: show them, they are what the commander has to fix.
  if (!err.detalle || typeof err.detalle !== "object") return err.message;
  const partes = Object.entries(err.detalle).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(" ") : v}`);
  return `${err.message} ${partes.join("; ")}`;
}

export function escapar(t) {
  // Everything shown from the server goes through here before it becomes HTML.
  return String(t ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// Every time on the page is shown in the agency's zone (TIME_ZONE), 24-hour, whatever the
// browser's own zone is.
const ZONA =
  JSON.parse((document.getElementById("mapa-config") || document.getElementById("campo-config"))?.textContent || "{}").zonaHoraria ||
  "America/Argentina/Buenos_Aires";
const FORMATOS = {
  hora: new Intl.DateTimeFormat("es-AR", { timeZone: ZONA, hourCycle: "h23", hour: "2-digit", minute: "2-digit" }),
  horaSegundos: new Intl.DateTimeFormat("es-AR", { timeZone: ZONA, hourCycle: "h23", hour: "2-digit", minute: "2-digit", second: "2-digit" }),
  fechaHora: new Intl.DateTimeFormat("es-AR", {
    timeZone: ZONA,
    hourCycle: "h23",
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }),
};

export function hora(valor, { segundos = false } = {}) {
  return FORMATOS[segundos ? "horaSegundos" : "hora"].format(new Date(valor));
}

export function fechaHora(valor) {
  return FORMATOS.fechaHora.format(new Date(valor));
}

// Date and time typed by a commander ("dd/mm/aaaa hh:mm", 24 h) are in the agency's zone too.
const PARTES = new Intl.DateTimeFormat("en-CA", {
  timeZone: ZONA,
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

function enZona(ms) {
  const p = Object.fromEntries(PARTES.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return p;
}

export function paraEscribir(ms) {
  const p = enZona(ms);
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

export function leerFechaHora(texto) {
  // → epoch ms, or NaN. The zone's offset at that moment is found by difference (no DST table).
  const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s+(\d{1,2}):(\d{2})\s*$/.exec(texto || "");
  if (!m) return NaN;
  const [, d, mes, a, h, min] = m.map(Number);
  if (mes < 1 || mes > 12 || d < 1 || d > 31 || h > 23 || min > 59) return NaN;
  const comoUtc = Date.UTC(a, mes - 1, d, h, min);
  const p = enZona(comoUtc);
  const visto = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute);
  return comoUtc - (visto - comoUtc);
}
