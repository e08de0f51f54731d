// Acting from the map: a click on an empty spot offers a task or an emergency there, with the
// nearest available efectivos and their distances; a click on an efectivo opens its details,
// current tasks and a replay of its track on a time slider.
import { pedir, detalleTexto, escapar, fechaHora, hora, conMotivo, preguntarMotivo } from "./api.js";

const $ = (sel, raiz = document) => raiz.querySelector(sel);

function metros(m) {
  return m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`;
}

function haceCuanto(ms) {
  if (!ms) return "sin posición";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `hace ${s} s`;
  if (s < 3600) return `hace ${Math.round(s / 60)} min`;
  return `hace ${(s / 3600).toFixed(1)} h`;
}

function opciones(mapa, elegida) {
  return Object.entries(mapa)
    .map(([k, v]) => `<option value="${escapar(k)}"${String(k) === String(elegida) ? " selected" : ""}>${escapar(v)}</option>`)
    .join("");
}

export class Acciones {
  constructor({ map, capas, config, avisar }) {
    this.map = map;
    this.capas = capas;
    this.config = config;
    this.avisar = avisar;
    this.panel = $("#panel");
    this.contenido = $("#panel-contenido");
    this.popup = null;
    this.reproduccion = null;
    this.alClic = null;
    // Other panels' tools for what is shown (messages and check-ins: comunicaciones.js).
    this.alMostrarEfectivo = null;
    this.alMostrarTarea = null;
    $("#panel-cerrar").addEventListener("click", () => this.cerrar());

    map.on("click", (e) => this.clic(e));
    for (const capa of ["efectivos", "tareas"]) {
      map.on("mouseenter", capa, () => (map.getCanvas().style.cursor = "pointer"));
      map.on("mouseleave", capa, () => (map.getCanvas().style.cursor = ""));
    }
  }

  clic(e) {
    if (this.alClic) return this.alClic(e); // another tool is picking a point (a message's radius or area)
    // A few pixels of tolerance, nearest first: a moving officer's dot is a small target.
    const T = 8;
    const caja = [
      [e.point.x - T, e.point.y - T],
      [e.point.x + T, e.point.y + T],
    ];
    const distancia = (g) => {
      const p = this.map.project(g.geometry.coordinates);
      return (p.x - e.point.x) ** 2 + (p.y - e.point.y) ** 2;
    };
    const [f] = this.map
      .queryRenderedFeatures(caja, { layers: ["efectivos", "tareas"] })
      .filter((g) => g.geometry.type === "Point")
      .sort((a, b) => distancia(a) - distancia(b));
    if (f && f.layer.id === "efectivos") return this.abrirEfectivo(f.properties.id);
    if (f && f.layer.id === "tareas") return this.abrirTarea(f.properties.id);
    this.ofrecer(e.lngLat);
  }

  abrir(html) {
    this.detenerReproduccion();
    this.capas.dibujarRecorrido(null);
    this.contenido.innerHTML = html;
    this.panel.hidden = false;
  }

  cerrar() {
    this.detenerReproduccion();
    this.capas.dibujarRecorrido(null);
    this.capas.seleccionar(null);
    this.panel.hidden = true;
  }

  // --- a point on the map -----------------------------------------------------------------------

  ofrecer(lngLat) {
    this.popup?.remove();
    const div = document.createElement("div");
    div.innerHTML = `
      <div class="tenue">${lngLat.lat.toFixed(5)}, ${lngLat.lng.toFixed(5)}</div>
      <button type="button" class="boton" data-accion="tarea">Nueva tarea aquí</button>
      <button type="button" class="boton peligro" data-accion="emergencia">Emergencia aquí</button>`;
    div.addEventListener("click", (ev) => {
      const accion = ev.target.dataset.accion;
      if (!accion) return;
      this.popup.remove();
      if (accion === "tarea") this.formTarea(lngLat);
      else this.formEmergencia(lngLat);
    });
    this.popup = new maplibregl.Popup({ closeOnClick: true }).setLngLat(lngLat).setDOMContent(div).addTo(this.map);
  }

  async cercanos(lngLat, k = 5) {
    const url = `/api/v1/efectivos/cercanos/?lat=${lngLat.lat}&lon=${lngLat.lng}&k=${k}`;
    return pedir(url);
  }

  listaCercanos(cercanos, { casillas }) {
    if (!cercanos.length) return `<p class="tenue">No hay efectivos disponibles con posición reciente.</p>`;
    return `<ul class="cercanos">${cercanos
      .map(
        (c, i) => `<li data-id="${c.id}">
          ${casillas ? `<input type="checkbox" value="${c.id}"${i === 0 ? " checked" : ""} aria-label="Asignar ${escapar(c.codigo_interno)}">` : ""}
          <span class="quien">${escapar(c.codigo_interno)} · ${escapar(c.nombre)}</span>
          <strong class="distancia">${metros(c.distancia_m)}</strong></li>`,
      )
      .join("")}</ul>`;
  }

  async formTarea(lngLat) {
    this.capas.seleccionar([lngLat.lng, lngLat.lat]);
    const unidades = this.config.unidades;
    this.abrir(`
      <h3>Nueva tarea</h3>
      <form id="form-tarea">
        <label for="t-titulo">Título</label><input id="t-titulo" name="titulo" required maxlength="200">
        <label for="t-tipo">Tipo</label><select id="t-tipo" name="tipo">${opciones(this.config.tiposTarea, "patrullaje")}</select>
        <label for="t-prioridad">Prioridad</label><select id="t-prioridad" name="prioridad">${opciones(this.config.prioridades, 2)}</select>
        ${unidades.length > 1 ? `<label for="t-unidad">Unidad</label><select id="t-unidad" name="unidad">${unidades.map((u) => `<option value="${u.id}">${escapar(u.codigo)} · ${escapar(u.nombre)}</option>`).join("")}</select>` : ""}
        <label for="t-descripcion">Descripción</label><textarea id="t-descripcion" name="descripcion" rows="2"></textarea>
        <label>Efectivos disponibles más cercanos</label><div id="t-cercanos" class="tenue">Buscando…</div>
        <div class="enviar"><button type="submit" class="boton">Crear tarea</button></div>
      </form>`);
    const form = $("#form-tarea");
    try {
      $("#t-cercanos").outerHTML = `<div id="t-cercanos">${this.listaCercanos(await this.cercanos(lngLat), { casillas: true })}</div>`;
    } catch (err) {
      $("#t-cercanos").textContent = detalleTexto(err);
    }
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const boton = $("button[type=submit]", form);
      boton.disabled = true;
      const f = new FormData(form);
      const cuerpo = {
        titulo: f.get("titulo"),
        tipo: f.get("tipo"),
        prioridad: Number(f.get("prioridad")),
        descripcion: f.get("descripcion") || "",
        lat: lngLat.lat,
        lon: lngLat.lng,
      };
      if (f.get("unidad")) cuerpo.unidad = Number(f.get("unidad"));
      const elegidos = [...form.querySelectorAll("#t-cercanos input:checked")].map((c) => Number(c.value));
      try {
        let tarea = await pedir("/api/v1/tareas/", { metodo: "POST", cuerpo });
        if (elegidos.length) {
          tarea = await pedir(`/api/v1/tareas/${tarea.id}/asignar/`, { metodo: "POST", cuerpo: { efectivos: elegidos } });
        }
        this.mostrarTarea(tarea, "Tarea creada.");
      } catch (err) {
        boton.disabled = false;
        this.avisar(detalleTexto(err));
      }
    });
  }

  async formEmergencia(lngLat) {
    this.capas.seleccionar([lngLat.lng, lngLat.lat]);
    this.abrir(`
      <h3>Emergencia</h3>
      <p class="tenue">Se crea con prioridad crítica y se despacha de inmediato a los efectivos disponibles más cercanos.</p>
      <form id="form-emergencia">
        <label for="e-descripcion">Descripción</label><textarea id="e-descripcion" name="descripcion" rows="2" required maxlength="2000"></textarea>
        <label for="e-efectivos">Efectivos a despachar</label><select id="e-efectivos" name="efectivos">${opciones({ 1: "1", 2: "2", 3: "3", 4: "4" }, 1)}</select>
        <label>Más cercanos ahora</label><div id="e-cercanos" class="tenue">Buscando…</div>
        <div class="enviar"><button type="submit" class="boton peligro">Despachar emergencia</button></div>
      </form>`);
    const form = $("#form-emergencia");
    this.cercanos(lngLat)
      .then((c) => ($("#e-cercanos").outerHTML = `<div id="e-cercanos">${this.listaCercanos(c, { casillas: false })}</div>`))
      .catch((err) => ($("#e-cercanos").textContent = detalleTexto(err)));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const boton = $("button[type=submit]", form);
      boton.disabled = true;
      const f = new FormData(form);
      try {
        const tarea = await pedir("/api/v1/tareas/emergencia/", {
          metodo: "POST",
          cuerpo: { lat: lngLat.lat, lon: lngLat.lng, descripcion: f.get("descripcion"), efectivos: Number(f.get("efectivos")) },
        });
        this.mostrarTarea(tarea, tarea.asignaciones.length ? "Emergencia despachada." : "Emergencia registrada: no hay efectivos disponibles; queda programada.");
      } catch (err) {
        boton.disabled = false;
        this.avisar(detalleTexto(err));
      }
    });
  }

  mostrarTarea(t, mensaje = "") {
    if (t.lat !== null) this.capas.seleccionar([t.lon, t.lat]);
    const abierta = ["programada", "asignada", "en_curso", "pausada"].includes(t.estado);
    const vivas = t.asignaciones.filter((a) => ["pendiente", "aceptada"].includes(a.estado));
    const asignaciones = t.asignaciones
      .map((a) => {
        const viva = abierta && ["pendiente", "aceptada"].includes(a.estado);
        const plazo = a.estado === "pendiente" && a.vence_en ? ` · responde antes de ${hora(a.vence_en)}` : "";
        const por = a.motivo && !viva ? ` · ${escapar(a.motivo)}` : "";
        return `<li data-asignacion="${a.efectivo}"><span>${escapar(a.efectivo_nombre)} <span class="tenue">(${escapar(a.estado)}${plazo}${por})</span></span>
          <strong>${a.distancia_m !== null ? metros(a.distancia_m) : ""}</strong>
          ${viva ? `<span class="acciones-asignacion"><button type="button" class="boton secundario chico" data-reasignar="${a.efectivo}">Reasignar</button><button type="button" class="boton secundario chico" data-liberar="${a.efectivo}">Liberar</button></span>` : ""}</li>`;
      })
      .join("");
    const prioridades = Object.entries(this.config.prioridades)
      .map(([k, v]) => `<option value="${k}" ${Number(k) === t.prioridad ? "selected" : ""}>${escapar(v)}</option>`)
      .join("");
    this.abrir(`
      ${mensaje ? `<p class="resultado" role="status">${escapar(mensaje)}</p>` : ""}
      <h3>${escapar(t.codigo)} · ${escapar(t.titulo)}</h3>
      ${t.corta_desde && abierta ? `<p class="sin-cubrir" role="alert">Sin cubrir desde ${hora(t.corta_desde)}: faltan ${Math.max(0, t.requeridos - vivas.length)} efectivo(s) y no hay disponibles en rango.</p>` : ""}
      <dl>
        <dt>Estado</dt><dd class="estado-tarea">${escapar(this.config.estadosTarea[t.estado] || t.estado)}</dd>
        <dt>Prioridad</dt><dd>${abierta ? `<select id="t-prioridad" aria-label="Prioridad">${prioridades}</select>` : escapar(this.config.prioridades[t.prioridad] || t.prioridad)}</dd>
        <dt>Tipo</dt><dd>${escapar(this.config.tiposTarea[t.tipo] || t.tipo)}</dd>
        ${t.requeridos ? `<dt>Efectivos</dt><dd>${vivas.length} de ${t.requeridos}</dd>` : ""}
      </dl>
      ${t.descripcion ? `<p>${escapar(t.descripcion)}</p>` : ""}
      <label>Asignados</label>
      <ul class="cercanos asignados">${asignaciones || `<li class="tenue">Nadie todavía</li>`}</ul>
      <div id="t-elegir"></div>
      ${
        abierta
          ? `<div class="acciones-tarea">
        ${t.estado === "programada" && !vivas.length && t.lat !== null ? `<button type="button" class="boton" id="t-asignar">Asignar al más cercano</button>` : ""}
        ${t.corta_desde ? `<button type="button" class="boton" id="t-buscar">Reabrir búsqueda</button>` : ""}
        ${t.lat !== null ? `<button type="button" class="boton secundario" id="t-agregar">Agregar efectivo</button>` : ""}
        <button type="button" class="boton secundario peligro" id="t-cancelar">Cancelar tarea</button></div>`
          : ""
      }
      <div id="comunicar"></div>`);
    this.alMostrarTarea?.(t, $("#comunicar"));
    const hacer = async (url, cuerpo, exito, metodo = "POST") => {
      try {
        this.mostrarTarea(await pedir(url, { metodo, cuerpo }), exito);
      } catch (err) {
        this.avisar(detalleTexto(err));
      }
    };
    $("#t-asignar")?.addEventListener("click", () => hacer(`/api/v1/tareas/${t.id}/asignar/`, { cercanos: 1 }, "Asignada."));
    $("#t-buscar")?.addEventListener("click", () => hacer(`/api/v1/tareas/${t.id}/buscar/`, undefined, "Búsqueda reabierta: despachada."));
    $("#t-prioridad")?.addEventListener("change", (ev) =>
      hacer(`/api/v1/tareas/${t.id}/`, { prioridad: Number(ev.target.value) }, "Prioridad cambiada.", "PATCH"),
    );
    $("#t-cancelar")?.addEventListener("click", () => {
      const motivo = window.prompt("Motivo de la cancelación:", "");
      if (motivo === null) return;
      hacer(`/api/v1/tareas/${t.id}/cancelar/`, { motivo }, "Tarea cancelada: sus efectivos quedan libres.");
    });
    this.contenido.querySelectorAll("[data-liberar]").forEach((b) =>
      b.addEventListener("click", () => {
        const motivo = window.prompt("Motivo (opcional):", "");
        if (motivo === null) return;
        hacer(`/api/v1/tareas/${t.id}/liberar/`, { efectivo: Number(b.dataset.liberar), motivo }, "Efectivo liberado.");
      }),
    );
    const elegir = async (titulo, alElegir) => {
      const div = $("#t-elegir");
      div.innerHTML = `<label>${escapar(titulo)}</label><div class="tenue">Buscando…</div>`;
      try {
        const lista = await this.cercanos({ lat: t.lat, lng: t.lon }, 5);
        div.innerHTML = `<label>${escapar(titulo)}</label>${this.listaCercanos(lista, { casillas: false })}`;
        div.querySelectorAll("[data-id]").forEach((li) => li.addEventListener("click", () => alElegir(Number(li.dataset.id))));
      } catch (err) {
        div.textContent = detalleTexto(err);
      }
    };
    this.contenido.querySelectorAll("[data-reasignar]").forEach((b) =>
      b.addEventListener("click", () =>
        elegir("Reasignar a (disponibles más cercanos):", (id) =>
          hacer(`/api/v1/tareas/${t.id}/reasignar/`, { de: Number(b.dataset.reasignar), a: id }, "Reasignada."),
        ),
      ),
    );
    $("#t-agregar")?.addEventListener("click", () =>
      elegir("Agregar (disponibles más cercanos):", (id) => hacer(`/api/v1/tareas/${t.id}/asignar/`, { efectivos: [id] }, "Efectivo agregado.")),
    );
  }

  async abrirTarea(id) {
    try {
      this.mostrarTarea(await pedir(`/api/v1/tareas/${id}/`));
    } catch (err) {
      this.avisar(detalleTexto(err));
    }
  }

  // --- an efectivo --------------------------------------------------------------------------------

  async abrirEfectivo(id) {
    let e;
    try {
      e = await pedir(`/mapa/datos/efectivos/${id}/`);
    } catch (err) {
      this.avisar(detalleTexto(err));
      return;
    }
    if (e.lon !== null) this.capas.seleccionar([e.lon, e.lat]);
    const fix = e.ultima_posicion_en ? Date.parse(e.ultima_posicion_en) : null;
    const tareas = e.tareas
      .map((t) => `<li><a href="#" data-tarea="${t.id}">${escapar(t.codigo)} · ${escapar(t.titulo)}</a> <span class="tenue">${escapar(this.config.estadosTarea[t.estado] || t.estado)}</span></li>`)
      .join("");
    this.abrir(`
      <h3 class="efectivo-nombre">${escapar(e.codigo)} · ${escapar(e.nombre)}</h3>
      <dl>
        <dt>Estado</dt><dd>${escapar(this.config.estados[e.estado] || e.estado)}</dd>
        <dt>Rango</dt><dd>${escapar(e.rango || "—")}</dd>
        <dt>Unidad</dt><dd>${escapar(e.unidad)}</dd>
        <dt>Posición</dt><dd>${haceCuanto(fix)}${e.precision_m ? ` · ±${Math.round(e.precision_m)} m` : ""}</dd>
        ${e.especialidades.length ? `<dt>Especialidades</dt><dd>${e.especialidades.map(escapar).join(", ")}</dd>` : ""}
      </dl>
      <label>Tarea actual</label>
      <ul class="cercanos">${tareas || `<li class="tenue">Sin tareas</li>`}</ul>
      <div id="comunicar"></div>
      <label>Telegram</label>
      <div id="tg" class="telegram">
        ${!e.tiene_usuario ? `<span class="tenue">Sin usuario: créelo en la administración para vincular Telegram.</span>`
          : `<span class="tenue">${e.telegram_vinculado ? "Vinculado." : "Sin vincular."}</span>
             <button type="button" class="boton secundario chico" id="tg-vincular">${e.telegram_vinculado ? "Vincular otro teléfono" : "Vincular Telegram"}</button>`}
      </div>
      <label>Equipos de seguimiento</label>
      <div id="equipos" class="equipos"><span class="tenue">Cargando…</span></div>
      <label for="r-horas">Recorrido</label>
      <select id="r-horas">${opciones({ 1: "Última hora", 4: "Últimas 4 horas", 8: "Últimas 8 horas", 24: "Últimas 24 horas" }, 4)}</select>
      <button type="button" class="boton secundario" id="r-ver">Ver recorrido</button>
      <div class="descargas tenue">Descargar: ${["gpx", "kml", "geojson", "csv"].map((f) => `<a href="#" data-formato="${f}">${f.toUpperCase()}</a>`).join(" · ")}</div>
      <div id="r-control" hidden>
        <input type="range" id="r-tiempo" min="0" value="0" aria-label="Momento del recorrido">
        <div><button type="button" class="boton secundario" id="r-play">▶ Reproducir</button> <span id="r-hora" class="tenue"></span></div>
      </div>`);
    this.contenido.querySelectorAll("[data-tarea]").forEach((a) =>
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        this.abrirTarea(a.dataset.tarea);
      }),
    );
    $("#r-ver").addEventListener("click", () => this.recorrido(id, Number($("#r-horas").value)));
    $("#tg-vincular")?.addEventListener("click", () => this.vincularTelegram(id, $("#tg")));
    this.alMostrarEfectivo?.({ ...e, id: Number(id) }, $("#comunicar"));
    this.equipos(id, e);
    // The same window as the replay, as a file GIS tools open (streamed by /api/v1/exportes/).
    // Someone's track is personal data: the reason is asked first (once per officer per session).
    this.contenido.querySelectorAll(".descargas a").forEach((a) =>
      a.addEventListener("click", async (ev) => {
        ev.stopPropagation();
        const clave = `efectivo:${id}`;
        const desde = new Date(Date.now() - Number($("#r-horas").value) * 3600e3).toISOString();
        const url = () =>
          conMotivo(`/api/v1/exportes/recorridos/?formato=${a.dataset.formato}&efectivo=${id}&desde=${encodeURIComponent(desde)}`, clave);
        if (conMotivo("/", clave) !== "/") {
          a.href = url();
          return;
        }
        ev.preventDefault();
        if (await preguntarMotivo(clave)) {
          a.href = url();
          a.click();
        }
      }),
    );
  }

  // --- tracker devices (Traccar Client, OwnTracks) -------------------------------------------------

  async equipos(efectivoId, e) {
    const destino = $("#equipos");
    if (!destino) return;
    let lista;
    try {
      lista = await pedir(`/api/v1/efectivos/${efectivoId}/dispositivos/`);
    } catch (err) {
      destino.textContent = detalleTexto(err);
      return;
    }
    const ESTADO = {
      en_contacto: "en contacto",
      sin_contacto: "sin contacto",
      nunca: "nunca se conectó",
      revocado: "dado de baja",
    };
    const filas = lista
      .map((d) => {
        const contacto = d.ultimo_contacto_en ? Date.parse(d.ultimo_contacto_en) : null;
        const fix = d.ultima_lectura_en ? Date.parse(d.ultima_lectura_en) : null;
        // Contact without a fresh fix (heartbeats, rejected readings) is not silence: say which.
        const sinFix = contacto && (!fix || contacto - fix > 10 * 60e3) ? " · sin posición nueva" : "";
        const bateria = d.bateria_pct !== null
          ? `<span class="${d.bateria_baja ? "bateria-baja" : ""}">🔋 ${Math.round(d.bateria_pct)} %${d.cargando ? " (cargando)" : ""}</span>`
          : "";
        return `<li data-dispositivo="${d.id}" class="equipo equipo-${d.estado}">
          <strong>${d.tipo === "owntracks" ? "OwnTracks" : "Traccar Client"}</strong> ${escapar(d.etiqueta || "")}
          <div class="tenue">${ESTADO[d.estado] || d.estado}${contacto ? ` · último contacto ${haceCuanto(contacto)}` : ""}${sinFix} ${bateria}</div>
          ${d.ultimo_rechazo ? `<div class="tenue rechazo">Último rechazo (${hora(d.ultimo_rechazo_en)}): ${escapar(d.ultimo_rechazo)}</div>` : ""}
          ${d.ubicacion_pedida_en ? `<div class="tenue">Ubicación pedida ${hora(d.ubicacion_pedida_en)}${d.ubicacion_pedida_enviada_en ? ` · enviada al teléfono ${hora(d.ubicacion_pedida_enviada_en)}` : " · esperando al teléfono"}</div>` : ""}
          ${d.estado === "revocado" ? "" : `<div class="acciones-equipo">
            ${d.tipo === "owntracks" ? `<button type="button" class="boton secundario chico" data-pedir="${d.id}">Pedir ubicación</button>` : ""}
            <button type="button" class="boton secundario chico" data-revocar="${d.id}">Dar de baja</button></div>`}
        </li>`;
      })
      .join("");
    destino.innerHTML = `
      <ul class="lista-equipos">${filas || `<li class="tenue">Sin equipos: dé de alta uno y escanee el código con el teléfono.</li>`}</ul>
      <div class="alta-equipo">
        <select id="eq-tipo" aria-label="Aplicación">
          <option value="traccar">Traccar Client</option>
          <option value="owntracks">OwnTracks</option>
        </select>
        <input id="eq-etiqueta" maxlength="80" placeholder="Teléfono (p. ej. Moto G · inventario 123)" aria-label="Etiqueta del equipo">
        <button type="button" class="boton secundario chico" id="eq-alta">Dar de alta</button>
      </div>
      <div id="eq-nuevo"></div>`;
    destino.querySelectorAll("[data-revocar]").forEach((b) =>
      b.addEventListener("click", async () => {
        if (!confirm("¿Dar de baja este equipo? Deja de poder enviar posiciones al instante.")) return;
        try {
          await pedir(`/api/v1/dispositivos/${b.dataset.revocar}/revocar/`, { metodo: "POST" });
          this.equipos(efectivoId, e);
        } catch (err) {
          this.avisar(detalleTexto(err));
        }
      }),
    );
    destino.querySelectorAll("[data-pedir]").forEach((b) =>
      b.addEventListener("click", async () => {
        try {
          await pedir(`/api/v1/dispositivos/${b.dataset.pedir}/pedir-ubicacion/`, { metodo: "POST" });
          this.equipos(efectivoId, e);
        } catch (err) {
          this.avisar(detalleTexto(err));
        }
      }),
    );
    $("#eq-alta").addEventListener("click", async () => {
      let nuevo;
      try {
        nuevo = await pedir(`/api/v1/efectivos/${efectivoId}/dispositivos/`, {
          metodo: "POST",
          cuerpo: { tipo: $("#eq-tipo").value, etiqueta: $("#eq-etiqueta").value },
        });
      } catch (err) {
        this.avisar(detalleTexto(err));
        return;
      }
      await this.equipos(efectivoId, e);
      this.mostrarAlta(nuevo, e);
    });
  }

  mostrarAlta(nuevo, e) {
    // Shown once: the credential is in the QR and the link, and the server keeps only its hash.
    const app = nuevo.dispositivo.tipo === "owntracks" ? "OwnTracks" : "Traccar Client";
    const destino = $("#eq-nuevo");
    destino.innerHTML = `
      <div class="codigo-tg alta-qr">
        <div class="qr" aria-label="Código QR de configuración">${nuevo.qr_svg}</div>
        <div>
          <div>Escanee con la cámara del teléfono, con ${app} instalada.</div>
          <a href="${escapar(nuevo.enlace)}" class="enlace-config">Enlace de configuración</a>
          <div class="tenue">Se muestra una sola vez: imprímalo ahora o dé de alta otro equipo.</div>
          <button type="button" class="boton secundario chico" id="eq-imprimir">Imprimir hoja</button>
        </div>
      </div>`;
    $("#eq-imprimir").addEventListener("click", () => imprimirHoja(nuevo, e, app));
  }

  // --- linking Telegram ---------------------------------------------------------------------------

  async vincularTelegram(efectivoId, destino) {
    // A single-use code: shown as a link and a QR code to scan with the efectivo's phone (or, with
    // no bot username configured, as the /start command to send the bot). efectivoId null: the
    // commander's own account, for escalated alerts.
    let c;
    try {
      c = await pedir("/api/v1/telegram/codigos/", { metodo: "POST", cuerpo: efectivoId ? { efectivo: efectivoId } : {} });
    } catch (err) {
      this.avisar(detalleTexto(err));
      return;
    }
    destino.innerHTML = `
      <div class="codigo-tg">
        ${c.qr_svg ? `<div class="qr" aria-label="Código QR del enlace">${c.qr_svg}</div>` : ""}
        <div>
          ${c.bot ? `<div>Bot de la institución: <strong>${escapar(c.bot)}</strong></div>` : ""}
          ${c.enlace ? `<a href="${escapar(c.enlace)}" target="_blank" rel="noopener">${escapar(c.enlace)}</a>` : `Enviar al bot: <code>/start ${escapar(c.codigo)}</code>`}
          <div class="tenue">Un solo uso · vence a las ${hora(c.vence_en)}</div>
          ${c.aviso ? `<div class="error aviso-tg">${escapar(c.aviso)}</div>` : ""}
        </div>
      </div>`;
  }

  async recorrido(id, horas) {
    let r;
    try {
      r = await pedir(`/api/v1/efectivos/${id}/recorrido/?horas=${horas}`, { motivo: `efectivo:${id}` });
    } catch (err) {
      this.avisar(detalleTexto(err));
      return;
    }
    const puntos = r.puntos;
    const control = $("#r-control");
    if (!puntos.length) {
      $("#r-hora").textContent = "Sin lecturas en ese período.";
      control.hidden = false;
      return;
    }
    const coords = puntos.map((p) => [p[0], p[1]]);
    const implausibles = puntos.filter((p) => p[3]).length;
    const slider = $("#r-tiempo");
    slider.max = String(puntos.length - 1);
    slider.value = slider.max;
    control.hidden = false;
    const mostrar = (i) => {
      const hasta = puntos.slice(0, i + 1);
      this.capas.dibujarRecorrido(
        hasta.filter((p) => !p[3]).map((p) => [p[0], p[1]]),
        hasta.filter((p) => p[3]).map((p) => [p[0], p[1]]),
      );
      this.capas.seleccionar(coords[i]);
      const marca =
        (puntos[i][3] ? " · lectura implausible (descartada)" : "") +
        (puntos[i][4] ? ` · enviada por ${puntos[i][4]}, no por su equipo` : "");
      const descartadas = implausibles ? `, ${implausibles} implausible(s) en rojo` : "";
      $("#r-hora").textContent = `${fechaHora(puntos[i][2])} · ${i + 1}/${puntos.length} (${r.lecturas} lecturas${descartadas})${marca}`;
    };
    slider.oninput = () => mostrar(Number(slider.value));
    mostrar(puntos.length - 1);
    const limites = coords.reduce((b, c) => b.extend(c), new maplibregl.LngLatBounds(coords[0], coords[0]));
    this.map.fitBounds(limites, { padding: 60, maxZoom: 16, duration: 500 });
    $("#r-play").onclick = () => {
      if (this.reproduccion) return this.detenerReproduccion();
      if (Number(slider.value) >= puntos.length - 1) slider.value = "0";
      $("#r-play").textContent = "❚❚ Pausa";
      const paso = Math.max(1, Math.round(puntos.length / 300)); // about 15 s for any track length
      this.reproduccion = setInterval(() => {
        const i = Math.min(puntos.length - 1, Number(slider.value) + paso);
        slider.value = String(i);
        mostrar(i);
        if (i >= puntos.length - 1) this.detenerReproduccion();
      }, 50);
    };
  }

  detenerReproduccion() {
    if (this.reproduccion) clearInterval(this.reproduccion);
    this.reproduccion = null;
    const play = $("#r-play");
    if (play) play.textContent = "▶ Reproducir";
  }
}

function imprimirHoja(nuevo, e, app) {
  // One page for the officer: the QR and three steps, printed from a window of its own.
  const pasos = nuevo.dispositivo.tipo === "owntracks"
    ? ["Instale OwnTracks desde la tienda de aplicaciones.", "Escanee este código con la cámara y acepte abrirlo con OwnTracks.", "Permita la ubicación «siempre» y quite OwnTracks del ahorro de batería."]
    : ["Instale Traccar Client desde la tienda de aplicaciones.", "Escanee este código con la cámara y acepte abrirlo con Traccar Client.", "Permita la ubicación «siempre» y quite Traccar Client del ahorro de batería."];
  const ventana = window.open("", "_blank", "noopener=no");
  if (!ventana) return;
  ventana.document.write(`<!doctype html><html lang="es-AR"><head><meta charset="utf-8"><title>Equipo de seguimiento</title>
    <style>body{font-family:sans-serif;margin:2cm}.qr svg{width:8cm;height:8cm}li{margin:.6em 0;font-size:14pt}</style></head>
    <body><h1>GRUPO_GAD · ${escapar(app)}</h1><p>${escapar(e.codigo)} · ${escapar(e.nombre)}${nuevo.dispositivo.etiqueta ? ` · ${escapar(nuevo.dispositivo.etiqueta)}` : ""}</p>
    <div class="qr">${nuevo.qr_svg}</div><ol>${pasos.map((p) => `<li>${escapar(p)}</li>`).join("")}</ol>
    <p>Guarde esta hoja en lugar seguro: el código identifica a su equipo.</p></body></html>`);
  ventana.document.close();
  ventana.focus();
  ventana.print();
}
