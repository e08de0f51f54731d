// GAD Campo: the field app for efectivos. State, tasks, messages and check-ins come from the API
// and then live from /ws/eventos/ (opened with a single-use ticket, resumed with `desde` after a
// drop). What must reach the server (readings, the SOS, "Estoy bien") goes through an IndexedDB
// queue first, so nothing is lost without signal.
import { escapar, fechaHora, hora, pedir } from "../mapa/api.js";
import { cuantos, encolar, pendientes, quitar } from "./cola.js";
import { MiniMapa, tareaHtml } from "./tareas.js";

const config = JSON.parse(document.getElementById("campo-config").textContent);
const $ = (id) => document.getElementById(id);
const estado = { yo: null, tareas: [], mensajes: [], control: null, sos: null, posicion: null, ultimo: 0 };
const CONEXION = { conectando: "Conectando…", en_vivo: "En vivo", reconectando: "Reconectando…", sin_senal: "Sin señal" };

function uuid() {
  return crypto.randomUUID ? crypto.randomUUID() : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) => (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));
}

function avisar(texto, ok = false) {
  const aviso = $("aviso");
  aviso.textContent = texto;
  aviso.classList.toggle("ok", ok);
  aviso.hidden = false;
  clearTimeout(avisar.t);
  avisar.t = setTimeout(() => (aviso.hidden = true), 7000);
}

function conexion(e) {
  $("conexion").dataset.estado = e;
  $("conexion").textContent = CONEXION[e] || e;
}

// --- attention: sound and vibration for what needs the officer now -------------------------------
let audio = null;
document.addEventListener("pointerdown", () => {
  // Browsers allow sound only after a gesture: the first tap unlocks it for the rest of the shift.
  if (!audio && window.AudioContext) audio = new AudioContext();
}, { once: true });

function llamar(fuerte = false) {
  window.gadCampo.llamadas += 1;
  if (navigator.vibrate) navigator.vibrate(fuerte ? [400, 150, 400, 150, 400] : [250, 100, 250]);
  if (!audio) return;
  const ahora = audio.currentTime;
  for (let i = 0; i < (fuerte ? 3 : 2); i += 1) {
    const o = audio.createOscillator();
    const g = audio.createGain();
    o.frequency.value = fuerte ? 1046 : 880;
    g.gain.setValueAtTime(0.25, ahora + i * 0.3);
    g.gain.exponentialRampToValueAtTime(0.001, ahora + i * 0.3 + 0.25);
    o.connect(g).connect(audio.destination);
    o.start(ahora + i * 0.3);
    o.stop(ahora + i * 0.3 + 0.26);
  }
}

// --- my state --------------------------------------------------------------------------------------
const ELEGIBLES = ["disponible", "no_disponible", "fuera_servicio"];

function pintarYo() {
  const yo = estado.yo;
  if (!yo) return;
  $("yo-nombre").textContent = `· ${yo.nombre} (${yo.codigo})`;
  const enTarea = yo.estado === "en_tarea";
  $("estados").innerHTML = ELEGIBLES.map(
    (e) => `<button type="button" data-estado="${e}" aria-pressed="${yo.estado === e}" ${enTarea ? "disabled" : ""}>${escapar(config.estados[e])}</button>`,
  ).join("");
  $("estado-nota").hidden = !enTarea;
  $("estado-nota").textContent = enTarea ? "En tarea: su estado vuelve a cambiar cuando la tarea termina." : "";
  // Duty: off duty the phone's readings are not stored (except during an SOS or an open task).
  const t = yo.turno;
  $("servicio-texto").textContent = yo.en_servicio
    ? `En servicio · turno hasta las ${hora(t.fin_real || t.fin)}${t.funcion ? ` · ${t.funcion}` : ""}`
    : "Fuera de servicio: su ubicación no se registra.";
  $("servicio").textContent = yo.en_servicio ? "Fin de servicio" : "Inicio de servicio";
  $("servicio").dataset.accion = yo.en_servicio ? "fin" : "inicio";
}

$("servicio").addEventListener("click", async () => {
  try {
    estado.yo = await pedir("/api/v1/yo/servicio/", { metodo: "POST", cuerpo: { accion: $("servicio").dataset.accion } });
    pintarYo();
    avisar(estado.yo.en_servicio ? "Servicio iniciado." : "Servicio terminado.", true);
  } catch (err) {
    avisar(err.estado ? err.message : "Sin señal: intente de nuevo en un momento.");
  }
});

$("estados").addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-estado]");
  if (!b) return;
  try {
    estado.yo = await pedir("/api/v1/yo/estado/", { metodo: "POST", cuerpo: { estado: b.dataset.estado } });
    pintarYo();
  } catch (err) {
    avisar(err.estado ? err.message : "Sin señal: intente de nuevo en un momento.");
  }
});

// --- tasks -----------------------------------------------------------------------------------------
const miniMapa = new MiniMapa($("mini-mapa"), config);

function miAsignacion(t) {
  return (t.asignaciones || []).find((a) => a.efectivo === estado.yo?.efectivo && ["pendiente", "aceptada"].includes(a.estado));
}

function posicionPropia() {
  if (estado.posicion) return estado.posicion;
  if (estado.yo?.lat != null) return { lat: estado.yo.lat, lon: estado.yo.lon };
  return null;
}

function pintarTareas() {
  const abiertas = estado.tareas.filter((t) => miAsignacion(t));
  // Pending answers first (they are waiting on me), then the most urgent.
  abiertas.sort((a, b) => (miAsignacion(a).estado === "pendiente" ? 0 : 1) - (miAsignacion(b).estado === "pendiente" ? 0 : 1) || b.prioridad - a.prioridad);
  const [actual, ...otras] = abiertas;
  if (!actual) {
    $("tarea-actual").innerHTML = `<p class="c-tenue">Sin tareas asignadas.</p>`;
    $("mini-mapa").hidden = true;
  } else {
    $("tarea-actual").innerHTML = tareaHtml(actual, {
      asignacion: miAsignacion(actual),
      yo: posicionPropia(),
      prioridades: config.prioridades,
      estadosTarea: config.estadosTarea,
    });
    miniMapa.mostrar(actual, posicionPropia());
  }
  $("otras-tareas").innerHTML = otras
    .map((t) => `<li>${escapar(t.codigo)} · ${escapar(t.titulo)} <span class="c-tenue">(${escapar(miAsignacion(t).estado)})</span></li>`)
    .join("");
}

async function cargarTareas() {
  estado.tareas = await pedir("/api/v1/mis-tareas/");
  pintarTareas();
}

function formulario(articulo, html, alEnviar) {
  const form = articulo.querySelector(".c-form");
  form.innerHTML = `${html}<div class="c-acciones"><button type="button" class="c-boton c-primario" data-enviar>Enviar</button><button type="button" class="c-boton" data-volver>Volver</button></div>`;
  form.hidden = false;
  form.querySelector("[data-volver]").onclick = () => (form.hidden = true);
  form.querySelector("[data-enviar]").onclick = () => alEnviar(form);
}

$("tarea-actual").addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-accion]");
  if (!b) return;
  const articulo = b.closest(".c-tarea");
  const id = articulo.dataset.id;
  const hacer = async (accion, cuerpo) => {
    try {
      await pedir(`/api/v1/tareas/${id}/${accion}/`, { metodo: "POST", cuerpo });
      await Promise.all([cargarTareas(), cargarYo()]);
    } catch (err) {
      avisar(err.estado ? err.message : "Sin señal: intente de nuevo en un momento.");
    }
  };
  const accion = b.dataset.accion;
  if (accion === "rechazar") {
    formulario(
      articulo,
      `<label>Motivo <select name="motivo">${config.motivosRechazo.map((m) => `<option>${escapar(m)}</option>`).join("")}<option value="">Sin motivo</option></select></label>`,
      (f) => hacer("rechazar", { motivo: f.querySelector("select").value }),
    );
  } else if (accion === "finalizar") {
    formulario(articulo, `<label>Nota para el mando <textarea name="nota" maxlength="2000" placeholder="Qué se hizo (opcional)"></textarea></label>`, (f) =>
      hacer("finalizar", { motivo: f.querySelector("textarea").value }),
    );
  } else {
    await hacer(accion);
  }
});

// --- messages --------------------------------------------------------------------------------------
function pintarMensajes() {
  const lista = estado.mensajes;
  const noLeidos = lista.filter((m) => !m.leido_en).length;
  $("no-leidos").hidden = !noLeidos;
  $("no-leidos").textContent = noLeidos;
  if (!lista.length) {
    $("mensajes").innerHTML = `<li class="c-tenue">Sin mensajes.</li>`;
    return;
  }
  $("mensajes").innerHTML = lista
    .map(
      (m) => `<li class="c-mensaje ${m.leido_en ? "" : "no-leido"} ${m.urgente ? "urgente" : ""}" data-id="${m.mensaje}">
        <div class="c-tenue">${m.urgente ? "URGENTE · " : ""}${escapar(m.autor)} · ${hora(m.creado_en)}${m.leido_en ? " · leído" : ""}${m.confirmado_en ? " · confirmado" : ""}</div>
        <p class="c-texto">${escapar(m.texto)}</p>
        ${(m.respuestas || []).map((r) => `<p class="c-tenue">↩ ${escapar(r.texto)} (${hora(r.creada_en)})</p>`).join("")}
        <div class="c-acciones">
          ${m.leido_en ? "" : `<button type="button" class="c-boton c-primario" data-paso="leido">Marcar leído</button>`}
          ${m.urgente && !m.confirmado_en ? `<button type="button" class="c-boton c-primario" data-paso="confirmado">Confirmar recepción</button>` : ""}
          <button type="button" class="c-boton" data-responder>Responder</button>
        </div>
        <div class="c-respuesta" hidden><textarea maxlength="2000" placeholder="Su respuesta"></textarea><div class="c-acciones"><button type="button" class="c-boton c-primario" data-enviar>Enviar</button></div></div>
      </li>`,
    )
    .join("");
}

async function marcar(id, paso) {
  const m = await pedir(`/api/v1/mis-mensajes/${id}/${paso}/`, { metodo: "POST" });
  estado.mensajes = estado.mensajes.map((x) => (x.mensaje === m.mensaje ? m : x));
  pintarMensajes();
  return m;
}

async function cargarMensajes() {
  estado.mensajes = await pedir("/api/v1/mis-mensajes/");
  // Everything listed has reached this phone: say so (the sender sees "entregado").
  for (const m of estado.mensajes.filter((x) => !x.entregado_en)) await marcar(m.mensaje, "recibido");
  pintarMensajes();
  const urgente = estado.mensajes.find((m) => m.urgente && !m.confirmado_en);
  if (urgente) mostrarUrgente(urgente);
}

function mostrarUrgente(m) {
  const d = $("urgente");
  d.dataset.id = m.mensaje;
  d.querySelector(".c-de").textContent = `De ${m.autor} · ${hora(m.creado_en)}`;
  d.querySelector(".c-texto").textContent = m.texto;
  if (!d.open) d.showModal();
}

$("urgente-confirmar").addEventListener("click", async () => {
  const d = $("urgente");
  try {
    await marcar(Number(d.dataset.id), "confirmado");
    d.close();
  } catch (err) {
    avisar(err.estado ? err.message : "Sin señal: la confirmación no salió; intente de nuevo.");
  }
});

$("mensajes").addEventListener("click", async (ev) => {
  const li = ev.target.closest(".c-mensaje");
  if (!li) return;
  const id = Number(li.dataset.id);
  try {
    if (ev.target.dataset.paso) await marcar(id, ev.target.dataset.paso);
    else if (ev.target.hasAttribute("data-responder")) {
      li.querySelector(".c-respuesta").hidden = false;
      li.querySelector("textarea").focus();
    } else if (ev.target.hasAttribute("data-enviar")) {
      const texto = li.querySelector("textarea").value;
      await pedir(`/api/v1/mis-mensajes/${id}/responder/`, { metodo: "POST", cuerpo: { texto } });
      avisar("Respuesta enviada.", true);
      await cargarMensajes();
    }
  } catch (err) {
    avisar(err.estado ? err.message : "Sin señal: intente de nuevo en un momento.");
  }
});

// --- welfare check-in ------------------------------------------------------------------------------
function pintarBienestar() {
  const c = estado.control;
  const pedido = c && c.pedido_en && ["pedido", "fallido"].includes(c.estado);
  $("bienestar").hidden = !pedido;
  if (pedido) {
    $("bienestar-texto").textContent = `El mando pide que confirme que está bien${c.vence_en ? ` antes de las ${hora(c.vence_en)}` : ""}.`;
  }
}

async function cargarBienestar() {
  estado.control = (await pedir("/api/v1/mi-bienestar/"))[0] || null;
  pintarBienestar();
}

$("estoy-bien").addEventListener("click", async () => {
  $("bienestar").hidden = true;
  await encolar("bienestar", { en: new Date().toISOString() });
  enviarCola();
});

// --- SOS: press and hold ---------------------------------------------------------------------------
const SOS_MS = 2000;
let sosInicio = null;
let sosMarco = null;

function sosAvance() {
  const avance = Math.min(1, (performance.now() - sosInicio) / SOS_MS);
  $("sos").style.setProperty("--avance", avance);
  if (avance >= 1) {
    sosSoltar();
    sosDisparar();
    return;
  }
  sosMarco = requestAnimationFrame(sosAvance);
}

function sosSoltar() {
  sosInicio = null;
  cancelAnimationFrame(sosMarco);
  $("sos").style.setProperty("--avance", 0);
}

$("sos").addEventListener("pointerdown", (ev) => {
  ev.preventDefault();
  $("sos").setPointerCapture?.(ev.pointerId);
  sosInicio = performance.now();
  sosMarco = requestAnimationFrame(sosAvance);
});
for (const tipo of ["pointerup", "pointercancel", "pointerleave"]) $("sos").addEventListener(tipo, sosSoltar);
$("sos").addEventListener("contextmenu", (ev) => ev.preventDefault());
$("sos").addEventListener("keydown", (ev) => {
  // From a keyboard: Enter held for the same two seconds.
  if ((ev.key === "Enter" || ev.key === " ") && sosInicio === null && !ev.repeat) {
    sosInicio = performance.now();
    sosMarco = requestAnimationFrame(sosAvance);
  }
});
$("sos").addEventListener("keyup", sosSoltar);

async function sosDisparar() {
  if (navigator.vibrate) navigator.vibrate(600);
  const p = estado.posicion;
  const cuerpo = { id_cliente: uuid(), fuente: "campo", ...(p ? { lat: p.lat, lon: p.lon, precision_m: p.precision_m ?? null } : {}) };
  await encolar("sos", cuerpo);
  $("sos").dataset.estado = "enviado";
  pintarSos({ estado: "en_cola" });
  enviarCola();
}

function pintarSos(s) {
  estado.sos = s;
  const caja = $("sos-estado");
  if (!s || s.estado === "resuelto") {
    caja.hidden = true;
    delete $("sos").dataset.estado;
    return;
  }
  caja.hidden = false;
  if (s.estado === "en_cola") {
    caja.innerHTML = `<h2>SOS en espera de señal</h2><p>Se envía apenas haya conexión, con su última posición.</p>`;
    return;
  }
  const refuerzos = s.refuerzos || [];
  caja.innerHTML = `<h2>SOS enviado ${hora(s.creado_en)}</h2>
    <p>El mando está avisado.</p>
    ${s.lugar ? `<p class="c-lugar">📍 ${escapar(s.lugar)}</p>` : ""}
    ${
      refuerzos.length
        ? `<p><strong>Refuerzo en camino:</strong></p><ul class="c-lista">${refuerzos
            .map((r) => `<li>${escapar(r.nombre)}${r.distancia_m != null ? ` · a ${Math.round(r.distancia_m)} m` : ""} · ${r.estado === "aceptada" ? "en camino" : "avisado"}</li>`)
            .join("")}</ul>`
        : s.lat == null
          ? `<p>Esperando su ubicación para despachar el refuerzo.</p>`
          : `<p>Sin efectivos disponibles cerca: el centro de operaciones despacha.</p>`
    }`;
}

async function cargarSos() {
  const activos = await pedir("/api/v1/sos/?estado=activo");
  const lista = activos.results || activos;
  if (lista.length) pintarSos(lista[0]);
  else if (!(await cuantos("sos"))) pintarSos(null);
}

// --- sharing my location ---------------------------------------------------------------------------
let vigilancia = null;
let enviadas = 0;

async function pintarUbicacion() {
  const enCola = await cuantos("lectura");
  const partes = [];
  partes.push(vigilancia !== null ? "Compartiendo." : "No se comparte.");
  if (enviadas) partes.push(`${enviadas} enviadas.`);
  if (enCola) partes.push(`${enCola} en cola (se envían al volver la señal).`);
  $("ubicacion-estado").textContent = partes.join(" ");
}

function alMoverme(pos) {
  const c = pos.coords;
  estado.posicion = { lat: c.latitude, lon: c.longitude, precision_m: c.accuracy };
  const lectura = {
    id_cliente: uuid(),
    lat: c.latitude,
    lon: c.longitude,
    registrada_en: new Date(pos.timestamp || Date.now()).toISOString(),
    precision_m: Math.min(100000, Math.round(c.accuracy ?? 0)),
  };
  if (c.speed != null && c.speed >= 0) lectura.velocidad_kmh = Math.min(500, c.speed * 3.6);
  if (c.heading != null && !Number.isNaN(c.heading)) lectura.rumbo = c.heading % 360;
  encolar("lectura", lectura).then(() => {
    pintarUbicacion();
    enviarCola();
  });
  pintarTareas();
}

function compartir(activo) {
  localStorage.setItem("gad-campo-compartir", activo ? "1" : "0");
  if (activo && vigilancia === null && navigator.geolocation) {
    vigilancia = navigator.geolocation.watchPosition(alMoverme, (e) => avisar(`Ubicación no disponible: ${e.message}`), {
      enableHighAccuracy: true,
      maximumAge: 5000,
      timeout: 30000,
    });
  } else if (!activo && vigilancia !== null) {
    navigator.geolocation.clearWatch(vigilancia);
    vigilancia = null;
  }
  pintarUbicacion();
}

$("compartir").addEventListener("change", (ev) => compartir(ev.target.checked));

// --- the queue: sent in order when there is signal --------------------------------------------------
let enviando = false;

async function enviarCola() {
  if (enviando) return;
  enviando = true;
  try {
    for (const [k, sos] of await pendientes("sos")) {
      const s = await pedir("/api/v1/sos/", { metodo: "POST", cuerpo: sos });
      await quitar([k]);
      pintarSos(s);
      avisar("SOS enviado: el mando está avisado.", true);
    }
    for (const [k] of await pendientes("bienestar")) {
      try {
        estado.control = await pedir("/api/v1/mi-bienestar/", { metodo: "POST" });
      } catch (err) {
        if (!err.estado) throw err;
      }
      await quitar([k]);
      pintarBienestar();
      avisar("Gracias: el mando sabe que está bien.", true);
    }
    // Readings in batches of up to 100 (ids make a resend harmless).
    for (;;) {
      const lote = (await pendientes("lectura")).slice(0, 100);
      if (!lote.length) break;
      try {
        await pedir("/api/v1/posiciones/", { metodo: "POST", cuerpo: lote.map(([, l]) => l) });
      } catch (err) {
        // Refused for good (4xx other than auth/limits): dropped, or one bad reading would block the rest.
        if (!err.estado || [401, 403, 429].includes(err.estado) || err.estado >= 500) throw err;
      }
      await quitar(lote.map(([k]) => k));
      enviadas += lote.length;
    }
    if ($("conexion").dataset.estado === "sin_senal") conexion(ws?.readyState === WebSocket.OPEN ? "en_vivo" : "reconectando");
  } catch (err) {
    if (!err.estado) conexion("sin_senal");
  } finally {
    enviando = false;
    pintarUbicacion();
  }
}

window.addEventListener("online", () => {
  enviarCola();
  conectar();
});
window.addEventListener("offline", () => conexion("sin_senal"));
setInterval(enviarCola, 15000);

// --- live events ---------------------------------------------------------------------------------
let ws = null;
let intentos = 0;
const vistos = new Set();

async function conectar() {
  if (ws && ws.readyState <= 1) return;
  conexion(intentos ? "reconectando" : "conectando");
  let ticket;
  try {
    ticket = (await pedir("/api/v1/ws/ticket/", { metodo: "POST" })).ticket;
  } catch (err) {
    reintentar(err.estado ? "reconectando" : "sin_senal");
    return;
  }
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const desde = estado.ultimo ? `&desde=${estado.ultimo}` : "";
  ws = new WebSocket(`${proto}://${location.host}/ws/eventos/?ticket=${encodeURIComponent(ticket)}${desde}`);
  ws.onopen = () => {
    intentos = 0;
    conexion("en_vivo");
    recargar(); // what changed while disconnected, in full
  };
  ws.onmessage = (m) => recibir(JSON.parse(m.data));
  ws.onclose = (e) => {
    ws = null;
    if (e.code === 4401) {
      location.assign(`/login/?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    reintentar(navigator.onLine === false ? "sin_senal" : "reconectando");
  };
}

function reintentar(como) {
  conexion(como);
  const espera = Math.min(15000, 500 * 2 ** intentos) * (0.5 + Math.random() / 2);
  intentos += 1;
  setTimeout(conectar, espera);
}

async function recibir(f) {
  if (f.tipo === "ping") {
    ws?.send(JSON.stringify({ tipo: "pong" }));
    return;
  }
  if (f.tipo === "resync") {
    recargar();
    return;
  }
  if (!f.id || vistos.has(f.id)) return;
  vistos.add(f.id);
  estado.ultimo = Math.max(estado.ultimo, f.id);
  window.gadCampo.eventos.push({ tipo: f.tipo, id: f.id, recibido: performance.now(), ts: f.ts });
  const d = f.datos;
  if (f.tipo === "tarea.asignada" && d.efectivo_id === estado.yo?.efectivo) {
    llamar(d.prioridad >= 4);
    avisar(`Nueva tarea: ${d.titulo}`);
    await cargarTareas();
  } else if (f.tipo === "tarea.asignacion" && d.efectivo_id === estado.yo?.efectivo && ["vencida", "liberada", "reasignada"].includes(d.respuesta)) {
    avisar(`La tarea ${d.codigo} fue reasignada a otro efectivo${d.respuesta === "vencida" ? " (no se aceptó a tiempo)" : ""}.`);
    await Promise.all([cargarTareas(), cargarYo()]);
  } else if (f.tipo.startsWith("tarea.")) {
    await cargarTareas();
  } else if (f.tipo === "mensaje.nuevo") {
    llamar(d.urgente);
    const m = await marcar(d.mensaje_id, "recibido").catch(() => null);
    if (m && !estado.mensajes.some((x) => x.mensaje === m.mensaje)) estado.mensajes.unshift(m);
    pintarMensajes();
    if (m && d.urgente) mostrarUrgente(m);
    else avisar(`Mensaje de ${d.autor}`);
  } else if (f.tipo === "bienestar.pedido") {
    llamar(true);
    estado.control = { ...(estado.control || {}), ...d, id: d.control_id };
    pintarBienestar();
  } else if (f.tipo === "bienestar.estado") {
    estado.control = d.estado === "terminado" ? null : { ...(estado.control || {}), ...d, id: d.control_id };
    pintarBienestar();
  } else if (f.tipo === "efectivo.estado") {
    await cargarYo();
  } else if (f.tipo === "sos.activado" || f.tipo === "sos.resuelto") {
    await cargarSos();
  }
}

// --- start ---------------------------------------------------------------------------------------
// --- who read my data (GET /api/v1/yo/accesos/) --------------------------------------------------

async function cargarAccesos() {
  const lista = $("accesos");
  try {
    const r = await pedir("/api/v1/yo/accesos/?limit=50");
    lista.innerHTML = r.results.length
      ? r.results
          .map(
            (a) => `<li data-acceso="${a.id}"><strong>${escapar(a.quien)}</strong>${a.unidad ? ` (${escapar(a.unidad)})` : ""} ·
              ${escapar(a.que)} <span class="c-tenue">${fechaHora(a.cuando)}</span><br>
              <span class="c-tenue">Motivo:</span> ${escapar(a.motivo_texto || "sin motivo registrado")}${
                a.motivo_detalle ? ` — ${escapar(a.motivo_detalle)}` : ""
              }</li>`,
          )
          .join("")
      : '<li class="c-tenue">Nadie consultó sus datos.</li>';
  } catch (err) {
    lista.innerHTML = `<li class="c-tenue">${escapar(err.message)}</li>`;
  }
}
$("accesos-detalle").addEventListener("toggle", () => {
  if ($("accesos-detalle").open) cargarAccesos();
});

async function cargarYo() {
  estado.yo = await pedir("/api/v1/yo/");
  pintarYo();
}

async function recargar() {
  try {
    await cargarYo();
    await Promise.all([cargarTareas(), cargarMensajes(), cargarBienestar(), cargarSos()]);
  } catch (err) {
    if (!err.estado) conexion("sin_senal");
  }
}

function tema() {
  const sol = localStorage.getItem("gad-campo-tema") === "sol";
  document.body.classList.toggle("sol", sol);
  $("tema").setAttribute("aria-pressed", String(sol));
}
$("tema").addEventListener("click", () => {
  localStorage.setItem("gad-campo-tema", document.body.classList.contains("sol") ? "noche" : "sol");
  tema();
});

window.gadCampo = { estado, eventos: [], llamadas: 0, listo: false };

async function iniciar() {
  tema();
  if ("serviceWorker" in navigator) {
    // A new release takes over at once (skipWaiting + claim): reload onto it, once.
    const habia = Boolean(navigator.serviceWorker.controller);
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (habia && !iniciar.recargada) {
        iniciar.recargada = true;
        location.reload();
      }
    });
    navigator.serviceWorker.register(config.sw, { scope: "/campo/" }).catch(() => {});
  }
  const compartiendo = localStorage.getItem("gad-campo-compartir") === "1";
  $("compartir").checked = compartiendo;
  if (compartiendo) compartir(true);
  await recargar();
  if ((await cuantos("sos")) && !estado.sos) pintarSos({ estado: "en_cola" });
  pintarUbicacion();
  enviarCola();
  conectar();
  document.body.dataset.listo = "1";
  window.gadCampo.listo = true;
}

iniciar();
