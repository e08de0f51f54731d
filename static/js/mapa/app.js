// The commanders' live map. Loads the snapshot, then follows /ws/eventos/ from the snapshot's
// cursor: positions, states, tasks, alerts and geofence changes arrive without polling.
import { pedir } from "./api.js";
import { Alertas } from "./alertas.js";
import { Acciones } from "./acciones.js";
import { estiloBase, fuentesCargadas } from "./base.js";
import { Buscar } from "./buscar.js";
import { Capas } from "./capas.js";
import { Comunicaciones } from "./comunicaciones.js";
import { ColaTareas } from "./tareas.js";
import { Tablero } from "./tablero.js";
import { Conexion } from "./eventos.js";
import { Quien } from "./quien.js";
import { Silencios } from "./silencios.js";
import { Sos } from "./sos.js";

const config = JSON.parse(document.getElementById("mapa-config").textContent);
const ESTADOS_CONEXION = {
  conectando: "Conectando…",
  en_vivo: "En vivo",
  reconectando: "Reconectando…",
  sincronizando: "Sincronizando…",
  caida: "Sin conexión: reintentando",
};

function avisar(texto, ok = false) {
  const aviso = document.getElementById("aviso");
  aviso.textContent = texto;
  aviso.classList.toggle("ok", ok);
  aviso.hidden = false;
  clearTimeout(avisar.t);
  avisar.t = setTimeout(() => (aviso.hidden = true), 6000);
}

function resumir(capas) {
  let disponibles = 0;
  for (const f of capas.efectivos.values()) if (f.properties.estado === "disponible" && !f.properties.viejo) disponibles += 1;
  document.getElementById("resumen").textContent =
    `${capas.efectivos.size} efectivos · ${disponibles} disponibles · ${capas.tareas.size} tareas abiertas`;
}

// A phone: the header's links behind a menu, the layers card folded, the side column as a bottom
// sheet that its handle raises and lowers (and that rises when a panel opens).
const TELEFONO = window.matchMedia("(max-width: 700px)");

function disposicionTelefono() {
  const menu = document.getElementById("menu");
  const boton = document.getElementById("menu-abrir");
  boton.addEventListener("click", (ev) => {
    ev.stopPropagation();
    const abierto = menu.classList.toggle("abierto");
    boton.setAttribute("aria-expanded", String(abierto));
  });
  document.addEventListener("click", (ev) => {
    if (!menu.contains(ev.target) && menu.classList.contains("abierto")) {
      menu.classList.remove("abierto");
      boton.setAttribute("aria-expanded", "false");
    }
  });
  const lateral = document.getElementById("lateral");
  const asa = document.getElementById("hoja-asa");
  const hoja = (abierta) => {
    lateral.classList.toggle("abierta", abierta);
    asa.setAttribute("aria-expanded", String(abierta));
  };
  asa.addEventListener("click", () => hoja(!lateral.classList.contains("abierta")));
  // A panel (an efectivo, a task, a form) needs the room: the sheet rises with it.
  new MutationObserver(() => {
    if (TELEFONO.matches) hoja(!document.getElementById("panel").hidden);
  }).observe(document.getElementById("panel"), { attributes: true, attributeFilter: ["hidden"] });
  if (TELEFONO.matches) document.getElementById("capas").open = false;
}

function avisoCalles() {
  const aviso = document.getElementById("aviso-calles");
  if (!aviso) return;
  if (sessionStorage.getItem("gad.avisoCalles") === "cerrado") aviso.hidden = true;
  document.getElementById("aviso-calles-cerrar").addEventListener("click", () => {
    aviso.hidden = true;
    sessionStorage.setItem("gad.avisoCalles", "cerrado");
  });
}

async function iniciar() {
  disposicionTelefono();
  avisoCalles();
  await fuentesCargadas();
  performance.mark("gad:fuentes");
  const map = new maplibregl.Map({
    container: "mapa",
    style: estiloBase(config),
    bounds: [
      [config.zona[0], config.zona[1]],
      [config.zona[2], config.zona[3]],
    ],
    fitBoundsOptions: { padding: 20 },
    attributionControl: { compact: true },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "bottom-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");

  // Marks of the first render's stages (performance.getEntriesByType("mark")): the benchmark
  // reads them to say where the time goes.
  map.once("load", () => performance.mark("gad:estilo"));
  const [datos] = await Promise.all([
    pedir("/mapa/datos/").then((d) => (performance.mark("gad:datos"), d)),
    new Promise((r) => map.once("load", r)),
  ]);
  const capas = new Capas(map, config);
  capas.alCambiar = () => resumir(capas);
  capas.instalar(datos);
  performance.mark("gad:capas");
  capas.leyendas();
  capas.cargarVigencias();
  document.querySelectorAll("#capas input[data-capa]").forEach((c) =>
    c.addEventListener("change", () => {
      capas.alternar(c.dataset.capa, c.checked);
      if (c.dataset.capa === "densidad") document.getElementById("leyenda-densidad").hidden = !c.checked;
    }),
  );

  const acciones = new Acciones({ map, capas, config, avisar });
  const quien = new Quien({ map, config, avisar, abrir: (html) => acciones.abrir(html) });
  new Buscar({ map, acciones });
  document.getElementById("quien-abrir").addEventListener("click", () => quien.formulario());
  document.getElementById("panel-cerrar").addEventListener("click", () => quien.limpiar());
  document.getElementById("mi-telegram").addEventListener("click", () => {
    acciones.abrir(`<h3>Mi Telegram</h3><p class="tenue">Vincule su cuenta para recibir las alertas que nadie reconoce a tiempo.</p><div id="tg"></div>`);
    acciones.vincularTelegram(null, document.getElementById("tg"));
  });
  const alertas = new Alertas({
    avisar,
    codigoDe: (id) => capas.efectivos.get(Number(id))?.properties.codigo ?? null,
    alSeleccionar: (a) => {
      if (a.lon !== null) map.flyTo({ center: [a.lon, a.lat], zoom: Math.max(map.getZoom(), 16) });
      acciones.abrirEfectivo(a.efectivo_id);
    },
  });
  alertas.cargar().catch((err) => avisar(err.message));
  const sos = new Sos({
    avisar,
    alVer: (d) => {
      if (d.lat !== null) map.flyTo({ center: [d.lon, d.lat], zoom: Math.max(map.getZoom(), 16) });
      acciones.abrirEfectivo(d.efectivo_id);
    },
  });
  sos.cargar().catch((err) => avisar(err.message));
  const silencios = new Silencios({
    alSeleccionar: (d) => {
      if (d.lat !== null) map.flyTo({ center: [d.lon, d.lat], zoom: Math.max(map.getZoom(), 16) });
      acciones.abrirEfectivo(d.efectivo_id);
    },
  });
  silencios.cargar().catch((err) => avisar(err.message));
  const comunicaciones = new Comunicaciones({ map, capas, config, acciones, avisar });
  comunicaciones.cargar().catch((err) => avisar(err.message));
  document.getElementById("mensaje-nuevo").addEventListener("click", () => comunicaciones.redactar());
  const cola = new ColaTareas({
    config,
    alSeleccionar: (id) => {
      const t = cola.tareas.find((x) => x.id === id);
      if (t && t.lat !== null) map.flyTo({ center: [t.lon, t.lat], zoom: Math.max(map.getZoom(), 16) });
      acciones.abrirTarea(id);
    },
  });
  cola.cargar().catch((err) => avisar(err.message));
  const tablero = new Tablero({
    capas,
    config,
    alSeleccionar: (id) => {
      const f = capas.efectivos.get(id);
      if (f && f.geometry) map.flyTo({ center: f.geometry.coordinates, zoom: Math.max(map.getZoom(), 16) });
      acciones.abrirEfectivo(id);
    },
  });

  const manejadores = {
    // One frame per unidad and commit, listing the efectivos that moved (coalesced server-side).
    "posicion.actualizada": (d) => d.posiciones.forEach((p) => capas.posicion({ ...p, unidad_id: d.unidad_id })),
    // Gone off duty: no position any more (efectivos.turnos).
    "efectivo.sin_posicion": (d) => d.efectivos.forEach((id) => capas.sinPosicion(id)),
    "efectivo.estado": (d) => {
      capas.estadoEfectivo(d);
      tablero.estado(d);
    },
    "alerta.geocerca": (d) => alertas.agregar(d),
    "alerta.reconocida": (d) => alertas.reconocida(d),
    "alerta.repetida": (d) => alertas.repetida(d),
    "alerta.estado": (d) => alertas.estado(d),
    "alerta.escalada": (d) => alertas.escalada(d),
    "tarea.creada": (d) => {
      capas.tarea(d);
      cola.cambio();
      tablero.cambio();
    },
    "tarea.actualizada": (d) => {
      capas.tarea(d);
      cola.cambio();
      tablero.cambio();
    },
    "tarea.asignada": (d) => {
      capas.tarea(d);
      cola.cambio();
      tablero.cambio();
    },
    "tarea.asignacion": (d) => {
      capas.tarea(d);
      cola.cambio();
      tablero.cambio();
    },
    "tarea.estado": (d) => {
      capas.tarea(d);
      cola.cambio();
      tablero.cambio();
    },
    "geocerca.actualizada": () => capas.geocercasCambiaron(),
    "geocerca.silenciada": (d) => alertas.silenciada(d),
    "geocerca.eliminada": () => capas.geocercasCambiaron(),
    "sos.activado": (d) => sos.activado(d),
    "sos.resuelto": (d) => sos.resuelto(d),
    "sin_reporte.activado": (d) => silencios.activado(d),
    "sin_reporte.cerrado": (d) => silencios.cerrado(d),
    "tarea.sin_cubrir": (d) => {
      avisar(`La tarea ${d.codigo} quedó sin cubrir: faltan ${d.faltan} efectivo(s) en rango.`);
      cola.cambio();
    },
    "mensaje.entrega": (d) => comunicaciones.entrega(d),
    "bienestar.pedido": (d) => comunicaciones.evento("bienestar.pedido", d),
    "bienestar.estado": (d) => comunicaciones.evento("bienestar.estado", d),
  };
  const conexion = new Conexion({
    desde: datos.cursor,
    alEvento: (f) => manejadores[f.tipo]?.(f.datos),
    alEstado: (estado) => {
      const el = document.getElementById("conexion");
      el.dataset.estado = estado;
      el.textContent = ESTADOS_CONEXION[estado];
    },
    alResync: async () => {
      // Too far behind to replay: reload the snapshot; the socket stays open meanwhile.
      let nuevos;
      try {
        nuevos = await pedir("/mapa/datos/");
      } catch (err) {
        conexion.reintentarResync();
        return;
      }
      capas.cargar(nuevos);
      alertas.cargar().catch(() => {});
      sos.cargar().catch(() => {});
      silencios.cargar().catch(() => {});
      comunicaciones.cargar().catch(() => {});
      cola.cargar().catch(() => {});
      conexion.reanudar(nuevos.cursor);
    },
  });
  conexion.abrir();
  setInterval(() => capas.refrescarDensidad(), 60000);

  map.once("idle", () => {
    document.body.dataset.listo = "1";
    window.gadMapa.listoEn = performance.now();
  });
  window.gadMapa = { map, capas, alertas, sos, silencios, comunicaciones, cola, tablero, acciones, conexion, quien, listoEn: null };
}

window.addEventListener("DOMContentLoaded", () => {
  iniciar().catch((err) => {
    avisar(`No se pudo cargar el mapa: ${err.message}`);
    throw err;
  });
});
