// The alerts panel: open geofence alerts (pending, acknowledged, being attended), newest first.
// New ones flash and beep; a click flies to the efectivo. Each card walks the lifecycle through the
// API (Reconocer → Atender → Resolver, with an optional note), and every change by any commander
// arrives on the socket and updates every open map. A repeat (the same efectivo crossing the same
// fence again while its alert is open) updates the card's count instead of adding a card; an alert
// left pending too long is marked escalated. The badge is the server's count of pending alerts.
// While the pointer is over the list it does not move: new alerts wait behind a "N nuevas" bar and
// resolved cards stay (struck through) until the pointer leaves. "Reconocer todas" acknowledges
// every pending alert up to the newest one on screen. The severity filter hides, never reorders;
// "Por severidad" orders critical first (newest first within each), once the pointer leaves.
// "Silenciar" silences the card's fence for some minutes with a reason (every commander is told):
// its alerts keep arriving, marked and without sound, and are neither notified nor escalated.
import { pedir, detalleTexto, donde, escapar, hora } from "./api.js";

const TIPOS = { entrada: "Entrada", salida: "Salida", permanencia: "Permanencia" };
const ESTADOS = { pendiente: "Pendiente", reconocida: "Reconocida", en_atencion: "En atención", resuelta: "Resuelta" };
const MAX = 200;
const RANGO = { critica: 3, advertencia: 2, info: 1 };

const horaDe = (iso) => hora(iso, { segundos: true });

export class Alertas {
  constructor({ alSeleccionar, avisar, codigoDe = () => null }) {
    this.codigoDe = codigoDe; // an efectivo's code, from the map's layer (the events carry the name)
    this.lista = document.getElementById("alertas");
    this.contador = document.getElementById("alertas-pendientes");
    this.filtro = document.getElementById("alertas-severidad");
    this.alSeleccionar = alSeleccionar;
    this.avisar = avisar;
    this.items = new Map(); // alerta_id -> {li, d}
    this.total = 0; // pending alerts in scope, from the server, kept live by the events
    this.reconocidas = new Set();
    this.maxId = 0;
    this.espera = [];
    this.porQuitar = [];
    this.quieta = false;
    this.barra = document.getElementById("alertas-nuevas");
    this.barra.addEventListener("click", () => this.soltar());
    this.lista.addEventListener("mouseenter", () => (this.quieta = true));
    this.lista.addEventListener("mouseleave", () => this.soltar());
    this.filtro.addEventListener("change", () => this.filtrar());
    this.orden = document.getElementById("alertas-orden");
    this.orden.addEventListener("change", () => this.ordenar());
    document.getElementById("alertas-todas").addEventListener("click", () => this.reconocerTodas());
    this.tituloBase = document.title;
    this.audio = null;
    // Browsers allow sound only after a user gesture: prepare it on the first click.
    document.addEventListener("click", () => this.prepararSonido(), { once: true });
  }

  async cargar() {
    const [abiertas, pendientes] = await Promise.all([
      pedir("/api/v1/alertas/?abiertas=true&limit=100"),
      pedir("/api/v1/alertas/?pendientes=true&limit=1"),
    ]);
    this.lista.innerHTML = "";
    this.items.clear();
    this.espera = [];
    this.porQuitar = [];
    this.reconocidas.clear();
    this.total = pendientes.count;
    for (const a of abiertas.results.slice().reverse()) {
      this.agregar(
        {
          alerta_id: a.id,
          tipo: a.tipo,
          severidad: a.severidad,
          estado: a.estado,
          repeticiones: a.repeticiones,
          cruce: a.cruce,
          silenciada: a.silenciada,
          geocerca_id: a.geocerca,
          escalada: Boolean(a.escalada_en),
          efectivo_id: a.efectivo,
          efectivo: a.efectivo_nombre,
          geocerca: a.geocerca_nombre,
          lat: a.lat,
          lon: a.lon,
          lugar: a.lugar || null,
          ocurrida_en: a.ocurrida_en,
          ultima_en: a.ultima_en,
        },
        false,
      );
      if (a.estado !== "pendiente") this.reconocidas.add(a.id);
    }
    this.actualizarContador();
  }

  agregar(d, nueva = true) {
    if (this.items.has(d.alerta_id) || this.espera.some((e) => e.alerta_id === d.alerta_id)) return;
    this.maxId = Math.max(this.maxId, d.alerta_id);
    if (nueva) {
      this.total += 1;
      if (!d.silenciada) this.sonar(d.severidad);
      if (this.quieta) {
        // The commander is about to click a card: do not move it under the pointer.
        this.espera.push(d);
        this.barra.textContent = `${this.espera.length} alerta(s) nueva(s): mostrar`;
        this.barra.hidden = false;
        this.actualizarContador();
        return;
      }
    }
    this.mostrar(d, nueva);
  }

  soltar() {
    this.quieta = false;
    const pendientes = this.espera;
    this.espera = [];
    this.barra.hidden = true;
    for (const d of pendientes) this.mostrar(d, true);
    for (const id of this.porQuitar) this.quitar(id);
    this.porQuitar = [];
    this.ordenar();
  }

  mostrar(d, nueva) {
    const li = document.createElement("li");
    li.className = "alerta" + (nueva ? " nueva" : "");
    li.dataset.id = d.alerta_id;
    li.dataset.severidad = d.severidad;
    li.innerHTML = `
      <div class="cabeza"><span>${TIPOS[d.tipo] || escapar(d.tipo)} · ${escapar(d.geocerca)} <span class="repeticiones"></span></span><span class="meta hora"></span></div>
      ${d.cruce ? '<div class="meta">Cruce entre dos lecturas (ninguna cayó dentro)</div>' : ""}
      ${d.silenciada ? '<div class="meta silenciada">🔕 Geocerca silenciada: sin sonido, aviso ni escalamiento</div>' : ""}
      <div>${this.codigoDe(d.efectivo_id) ? `<strong class="codigo">${escapar(this.codigoDe(d.efectivo_id))}</strong> · ` : ""}${escapar(d.efectivo)}</div>
      ${donde(d) ? `<div class="meta lugar">📍 ${escapar(donde(d))}</div>` : ""}
      <div class="meta estado"></div>
      <div class="acciones">
        <button type="button" class="boton secundario chico reconocer">Reconocer</button>
        <button type="button" class="boton secundario chico atender">Atender</button>
        <button type="button" class="boton secundario chico resolver">Resolver</button>
        <button type="button" class="boton secundario chico silenciar" title="Silenciar esta geocerca un tiempo">🔕</button>
      </div>`;
    li.addEventListener("click", (e) => {
      if (e.target.closest("button")) return;
      this.alSeleccionar(this.items.get(d.alerta_id)?.d || d);
    });
    for (const accion of ["reconocer", "atender", "resolver"]) {
      li.querySelector(`.${accion}`).addEventListener("click", () => this.accion(d.alerta_id, accion));
    }
    li.querySelector(".silenciar").addEventListener("click", () => this.preguntarSilencio(li, d));
    this.lista.prepend(li);
    this.items.set(d.alerta_id, { li, d: { estado: "pendiente", repeticiones: 1, ...d } });
    this.pintar(d.alerta_id);
    if (this.orden.value === "severidad") this.ordenar();
    while (this.lista.children.length > MAX) {
      const ultimo = this.lista.lastElementChild;
      this.items.delete(Number(ultimo.dataset.id));
      ultimo.remove();
    }
    if (nueva) this.actualizarContador();
  }

  // Renders a card from its state (no reordering).
  pintar(id) {
    const item = this.items.get(id);
    if (!item) return;
    const { li, d } = item;
    li.dataset.estado = d.estado;
    li.classList.toggle("reconocida", d.estado !== "pendiente");
    li.classList.toggle("escalada", Boolean(d.escalada) && d.estado === "pendiente");
    li.querySelector(".repeticiones").textContent = d.repeticiones > 1 ? `×${d.repeticiones}` : "";
    li.querySelector(".hora").textContent = horaDe(d.ultima_en || d.ocurrida_en);
    let estado = ESTADOS[d.estado] || d.estado;
    if (d.por) estado += ` por ${d.por}`;
    if (d.nota) estado += ` — ${d.nota}`;
    if (d.escalada && d.estado === "pendiente") estado += " · escalada";
    li.querySelector(".estado").textContent = estado;
    li.querySelector(".reconocer").hidden = d.estado !== "pendiente";
    li.querySelector(".atender").hidden = !["pendiente", "reconocida"].includes(d.estado);
    li.querySelector(".resolver").hidden = d.estado === "resuelta";
    li.hidden = Boolean(this.filtro.value) && d.severidad !== this.filtro.value;
  }

  filtrar() {
    for (const id of this.items.keys()) this.pintar(id);
  }

  ordenar() {
    if (this.quieta) return; // never under the pointer: done when it leaves
    const porSeveridad = this.orden.value === "severidad";
    const clave = (li) => (porSeveridad ? (RANGO[li.dataset.severidad] || 0) * 1e12 : 0) + Number(li.dataset.id);
    const lis = [...this.lista.children].sort((a, b) => clave(b) - clave(a));
    if (lis.some((li, i) => li !== this.lista.children[i])) this.lista.append(...lis);
  }

  preguntarSilencio(li, d) {
    if (li.querySelector(".silencio") || !d.geocerca_id) return;
    const form = document.createElement("form");
    form.className = "silencio";
    form.innerHTML = `
      <label>Silenciar «${escapar(d.geocerca)}» <select name="minutos">
        <option value="15">15 min</option><option value="30">30 min</option><option value="60" selected>1 h</option>
        <option value="120">2 h</option><option value="240">4 h</option></select></label>
      <input name="motivo" maxlength="200" required placeholder="Motivo (lo ven los demás comandantes)">
      <button type="submit" class="boton chico">Silenciar</button>
      <button type="button" class="boton secundario chico volver">Volver</button>`;
    form.querySelector(".volver").addEventListener("click", () => form.remove());
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await pedir(`/api/v1/geocercas/${d.geocerca_id}/silenciar/`, {
          metodo: "POST",
          cuerpo: { minutos: Number(form.elements.minutos.value), motivo: form.elements.motivo.value },
        });
        form.remove();
      } catch (err) {
        this.avisar(detalleTexto(err));
      }
    });
    li.append(form);
    form.elements.motivo.focus();
  }

  // geocerca.silenciada: told to every commander who sees the fence.
  silenciada(d) {
    if (d.hasta) this.avisar(`«${d.geocerca}» silenciada hasta las ${hora(d.hasta)} por ${d.por}: ${d.motivo}`, true);
    else this.avisar(`«${d.geocerca}»: ${d.por} levantó el silencio.`, true);
  }

  async reconocerTodas() {
    if (!this.total) return;
    if (!window.confirm(`¿Reconocer las ${this.total} alertas pendientes hasta la más reciente a la vista?`)) return;
    try {
      const r = await pedir("/api/v1/alertas/reconocer/", { metodo: "POST", cuerpo: { hasta_id: this.maxId || 1 } });
      for (const id of r.ids) this.reconocida({ alerta_id: id, reconocida_por: "usted" });
      this.avisar(`${r.reconocidas} alertas reconocidas.`, true);
    } catch (err) {
      this.avisar(detalleTexto(err));
    }
  }

  async accion(id, accion) {
    const item = this.items.get(id);
    if (!item) return;
    let nota = "";
    if (accion === "resolver") {
      nota = window.prompt("Nota de resolución (opcional):", "");
      if (nota === null) return;
    }
    const botones = item.li.querySelectorAll(".acciones button");
    for (const b of botones) b.disabled = true;
    try {
      const a = await pedir(`/api/v1/alertas/${id}/${accion}/`, { metodo: "POST", cuerpo: nota ? { nota } : {} });
      if (accion === "reconocer") this.reconocida({ alerta_id: id, reconocida_por: a.reconocida_por });
      const ultima = a.historial[a.historial.length - 1];
      this.estado({ alerta_id: id, estado: a.estado, por: ultima?.usuario, nota: ultima?.nota });
    } catch (err) {
      if (err.codigo === "alerta_ya_reconocida" || err.codigo === "transicion_invalida") {
        this.estado({ alerta_id: id, estado: err.detalle?.estado || "reconocida", por: "otro comandante" });
      } else {
        this.avisar(detalleTexto(err));
      }
    } finally {
      for (const b of botones) b.disabled = false;
    }
  }

  // alerta.reconocida: it stopped being pending (the badge counts pending alerts).
  reconocida(d) {
    if (!this.reconocidas.has(d.alerta_id)) {
      this.reconocidas.add(d.alerta_id);
      this.total = Math.max(0, this.total - 1);
      this.actualizarContador();
    }
    this.espera = this.espera.filter((e) => e.alerta_id !== d.alerta_id);
    const item = this.items.get(d.alerta_id);
    if (item && item.d.estado === "pendiente") {
      Object.assign(item.d, { estado: "reconocida", por: d.reconocida_por, nota: "" });
      item.li.classList.remove("nueva");
      this.pintar(d.alerta_id);
    }
  }

  // alerta.estado: any step of the lifecycle, by anyone.
  estado(d) {
    if (d.estado !== "pendiente") this.reconocida({ alerta_id: d.alerta_id, reconocida_por: d.por });
    const item = this.items.get(d.alerta_id);
    if (!item) return;
    Object.assign(item.d, { estado: d.estado, por: d.por, nota: d.nota || "" });
    this.pintar(d.alerta_id);
    if (d.estado === "resuelta") {
      if (this.quieta) this.porQuitar.push(d.alerta_id);
      else this.quitar(d.alerta_id);
    }
  }

  quitar(id) {
    const item = this.items.get(id);
    if (!item) return;
    item.li.remove();
    this.items.delete(id);
  }

  // alerta.repetida: the same alert again; its card is updated in place.
  repetida(d) {
    const item = this.items.get(d.alerta_id);
    if (!item) {
      const enEspera = this.espera.find((e) => e.alerta_id === d.alerta_id);
      if (enEspera) Object.assign(enEspera, d);
      else if (d.estado !== "resuelta") this.agregar(d, d.estado === "pendiente" && !this.reconocidas.has(d.alerta_id));
      return;
    }
    Object.assign(item.d, { repeticiones: d.repeticiones, ultima_en: d.ultima_en, lat: d.lat, lon: d.lon });
    this.pintar(d.alerta_id);
    item.li.classList.remove("nueva");
    void item.li.offsetWidth; // restart the flash
    item.li.classList.add("nueva");
  }

  // alerta.escalada: still pending after ALERTA_ESCALAR_MIN minutes.
  escalada(d) {
    const item = this.items.get(d.alerta_id);
    if (item) {
      item.d.escalada = true;
      this.pintar(d.alerta_id);
    }
    this.sonar("critica");
    this.avisar(`Alerta sin reconocer hace ${d.minutos} min: ${d.efectivo} · ${d.geocerca}`);
  }

  actualizarContador() {
    const pendientes = this.total;
    this.contador.textContent = pendientes;
    this.contador.classList.toggle("activo", pendientes > 0);
    document.title = pendientes ? `(${pendientes}) ${this.tituloBase}` : this.tituloBase;
  }

  prepararSonido() {
    try {
      this.audio = new AudioContext();
    } catch {
      this.audio = null;
    }
  }

  sonar(severidad) {
    if (!this.audio) return;
    const t = this.audio.currentTime;
    const osc = this.audio.createOscillator();
    const gan = this.audio.createGain();
    osc.frequency.value = severidad === "critica" ? 880 : 660;
    gan.gain.setValueAtTime(0.15, t);
    gan.gain.exponentialRampToValueAtTime(0.001, t + 0.4);
    osc.connect(gan).connect(this.audio.destination);
    osc.start(t);
    osc.stop(t + 0.4);
  }
}
