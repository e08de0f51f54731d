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

// --- why a commander reads an officer's personal data (auditoria/motivos.py) -----------------------
// A track, "who was where" or an export of someone's data needs a reason. The commander gives it
// once per officer (or per kind of read) per browser session; it is sent with every such read
// after that and stored in the audit trail, where the officer sees it.

const MOTIVOS = "gad.motivos";

function motivosGuardados() {
  try {
    return JSON.parse(sessionStorage.getItem(MOTIVOS) || "{}");
  } catch {
    return {};
  }
}

export function conMotivo(url, clave) {
  const m = clave && motivosGuardados()[clave];
  if (!m) return url;
  const u = new URL(url, location.origin);
  u.searchParams.set("motivo", m.motivo);
  if (m.detalle) u.searchParams.set("motivo_detalle", m.detalle);
  return u.pathname + u.search;
}

function configMapa() {
  return JSON.parse(document.getElementById("mapa-config")?.textContent || "{}");
}

// Asks for the reason in a dialog; resolves to {motivo, detalle} (kept for `clave`) or null.
export function preguntarMotivo(clave, { opciones, maximo } = {}) {
  const config = configMapa();
  opciones = opciones || config.motivos || {};
  maximo = maximo || config.motivoDetalleMax || 200;
  return new Promise((resolver) => {
    const dlg = document.createElement("dialog");
    dlg.className = "dlg-motivo";
    dlg.setAttribute("aria-labelledby", "dlg-motivo-titulo");
    dlg.innerHTML = `<form method="dialog">
      <h3 id="dlg-motivo-titulo">Motivo del acceso</h3>
      <p class="tenue">Los datos personales de un efectivo (recorridos, quién estaba dónde, exportes) se consultan con un
      motivo. Queda registrado y el efectivo puede verlo. Se pide una vez por efectivo en esta sesión.</p>
      <label>Motivo <select name="motivo" required><option value="">Elegir…</option>${Object.entries(opciones)
        .map(([v, t]) => `<option value="${escapar(v)}">${escapar(t)}</option>`)
        .join("")}</select></label>
      <label>Detalle <input name="detalle" maxlength="${Number(maximo)}" placeholder="Opcional; obligatorio con «Otro»"></label>
      <p class="error" hidden></p>
      <div class="botones"><button type="button" value="cancelar">Cancelar</button><button type="submit" value="ok">Continuar</button></div>
    </form>`;
    document.body.append(dlg);
    const form = dlg.querySelector("form");
    const cerrar = (valor) => {
      dlg.close();
      dlg.remove();
      resolver(valor);
    };
    dlg.querySelector('button[value="cancelar"]').addEventListener("click", () => cerrar(null));
    dlg.addEventListener("cancel", (ev) => {
      ev.preventDefault();
      cerrar(null);
    });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const motivo = form.motivo.value;
      const detalle = form.detalle.value.trim();
      const error = dlg.querySelector(".error");
      if (!motivo || (motivo === "otro" && !detalle)) {
        error.textContent = motivo ? "Explique el motivo en el detalle." : "Elija un motivo.";
        error.hidden = false;
        return;
      }
      const guardados = motivosGuardados();
      guardados[clave] = { motivo, detalle };
      sessionStorage.setItem(MOTIVOS, JSON.stringify(guardados));
      cerrar({ motivo, detalle });
    });
    dlg.showModal();
  });
}

// `motivo`: the key the server knows the read by ("efectivo:12", "quien", "exporte"): a reason
// already given for it is sent; a 400 motivo_requerido asks for one and retries once.
export async function pedir(url, { metodo = "GET", cuerpo, motivo } = {}) {
  try {
    return await pedirUna(conMotivo(url, motivo), { metodo, cuerpo });
  } catch (err) {
    if (!(err instanceof ErrorApi) || err.codigo !== "motivo_requerido") throw err;
    const clave = err.detalle?.clave || motivo;
    const dado = await preguntarMotivo(clave, { opciones: err.detalle?.opciones, maximo: err.detalle?.detalle_max });
    if (!dado) throw new ErrorApi(400, { error: { codigo: "motivo_requerido", mensaje: "Consulta cancelada: sin motivo." } });
    return pedirUna(conMotivo(url, clave), { metodo, cuerpo });
  }
}

async function pedirUna(url, { metodo = "GET", cuerpo } = {}) {
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

// Where something is: the place the server named from the street extract, else its coordinates.
export function donde(d) {
  if (d.lugar) return d.lugar;
  if (d.lat == null || d.lon == null) return "";
  return `${d.lat.toFixed(5)}, ${d.lon.toFixed(5)}`;
}
