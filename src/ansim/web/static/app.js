// Ansim web map. Plain ES module over Leaflet 1.9.4 (vendored, global `L`): no build step, no CDN,
// no tile server. Every layer comes from this server: basemap GeoJSON from the bundled data,
// risk cells, exposures, regions, routes and plan checks from the API, live updates over SSE.
import { TEXT } from "./i18n.js";

const L = window.L;
const SEOUL_OFFSET_MS = 9 * 3600 * 1000; // Korea has kept +09:00 without DST since 1988
const ROUTE_STYLE = {
  fastest: { color: "#0072b2", dashArray: "10 7", cls: "dash" },
  balanced: { color: "#009e73", dashArray: null, cls: "" },
  safest: { color: "#1d1d1f", dashArray: "2 7", cls: "dot" },
};
// Largest box /v1/risk/cells answers per resolution (km²), and the resolution per zoom.
const MAX_BOX_KM2 = { 10: 25, 9: 150, 8: 1000, 7: 1000 };
const resolutionForZoom = (z) => (z <= 11 ? 8 : z <= 13 ? 9 : 10);
const MAX_PIECES = 6;

const state = {
  lang: "ko",
  config: null,
  nowMs: 0,
  offsetH: 0,
  levels: [],
  colors: {},
  cellsDrawn: 0,
  cellsResolution: null,
  exposureCount: 0,
  liveUpdates: 0,
  lastLive: null,
  routeDrawn: 0,
  plansShown: 0,
  region: null,
  regionData: null,
  routeData: null,
  planData: null,
  picking: null,
  gu: null,
  freshKeys: new Set(),
  liveFeatures: [],
  ready: false,
};
// read by the end-to-end tests
window.ansim = {
  state,
  exposureNames: () => layers.exposures.getLayers().map((m) => m.feature && m.feature.properties.place_name),
};

// --- helpers --------------------------------------------------------------------------------------
const $ = (sel) => document.querySelector(sel);
const t = (key) => (TEXT[state.lang] && TEXT[state.lang][key]) ?? TEXT.ko[key] ?? key;
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const atMs = () => state.nowMs + state.offsetH * 3600 * 1000;

function seoulIso(ms) {
  return new Date(ms + SEOUL_OFFSET_MS).toISOString().slice(0, 19) + "+09:00";
}
function fmtTime(value, withDate = true) {
  const d = typeof value === "number" ? new Date(value) : new Date(value);
  const opts = { timeZone: "Asia/Seoul", hour: "2-digit", minute: "2-digit", hour12: false };
  if (withDate) Object.assign(opts, { year: "numeric", month: "short", day: "numeric", weekday: "short" });
  return new Intl.DateTimeFormat(state.lang === "ko" ? "ko-KR" : "en-GB", opts).format(d);
}
function fmtNum(x, digits = 1) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  const v = Number(x);
  const d = Math.abs(v) >= 100 ? 0 : digits;
  return v.toLocaleString(state.lang === "ko" ? "ko-KR" : "en-GB", { maximumFractionDigits: d, minimumFractionDigits: 0 });
}
function levelName(key) {
  const lv = state.levels.find((l) => l.key === key);
  return lv ? (state.lang === "ko" ? lv.name_ko : lv.name_en) : key;
}
function levelChip(key) {
  const i = state.levels.findIndex((l) => l.key === key);
  const color = state.colors[key] || "#ccc";
  const dark = i >= 3;
  return `<span class="lvl" style="background:${color};color:${dark ? "#fff" : "#000"}">${esc(levelName(key))}</span>`;
}
async function api(path, options = {}) {
  const res = await fetch(path, options);
  const type = res.headers.get("content-type") || "";
  const body = type.includes("json") ? await res.json() : await res.text();
  if (!res.ok) {
    const detail = (body && (body.detail || body.title)) || res.statusText;
    const err = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
    err.status = res.status;
    throw err;
  }
  return body;
}
function toast(message) {
  const el = $("#toast");
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.hidden = true), 6000);
}
function debounce(fn, ms) {
  let id;
  return (...args) => {
    clearTimeout(id);
    id = setTimeout(() => fn(...args), ms);
  };
}

// --- map --------------------------------------------------------------------------------------------
const map = L.map("map", { preferCanvas: true, zoomSnap: 1, minZoom: 10, maxZoom: 18, attributionControl: true });
map.attributionControl.setPrefix(false);
for (const [name, z] of [["gu", 200], ["cells", 300], ["roads", 320], ["dong", 330], ["guline", 350], ["stations", 450], ["routes", 500], ["exposures", 550], ["picks", 600]]) {
  map.createPane(name).style.zIndex = String(z);
}
// The cells and outline panes let clicks through to the gu polygons below.
map.getPane("cells").style.pointerEvents = "none";
map.getPane("roads").style.pointerEvents = "none";
map.getPane("dong").style.pointerEvents = "none";
map.getPane("guline").style.pointerEvents = "none";
const renderers = {};
for (const name of ["gu", "roads", "dong", "cells", "guline", "stations", "routes", "exposures"]) {
  renderers[name] = L.canvas({ pane: name, padding: 0.3 });
}
const layers = {
  gu: null,
  guLine: null,
  roads: null,
  dong: null,
  stations: L.layerGroup(),
  cells: L.layerGroup().addTo(map),
  exposures: L.layerGroup().addTo(map),
  routes: L.layerGroup().addTo(map),
  picks: L.layerGroup().addTo(map),
};

async function loadBasemap() {
  const gu = await api("/web/basemap/gu.geojson");
  state.gu = gu;
  layers.gu = L.geoJSON(gu, {
    renderer: renderers.gu,
    pane: "gu",
    style: () => ({ color: "#8a8a8a", weight: 0, fillColor: "#fbfaf6", fillOpacity: 1 }),
    onEachFeature: (f, layer) => layer.on("click", (e) => onMapClick(e, f)),
  }).addTo(map);
  layers.guLine = L.geoJSON(gu, {
    renderer: renderers.guline,
    pane: "guline",
    interactive: false,
    style: (f) => ({ color: f.properties.code === state.region ? "#e69f00" : "#444", weight: f.properties.code === state.region ? 3 : 1.2, fill: false }),
  }).addTo(map);
  const select = $("#region-select");
  const sorted = [...gu.features].sort((a, b) => a.properties.name.localeCompare(b.properties.name, "ko"));
  for (const f of sorted) {
    const opt = document.createElement("option");
    opt.value = f.properties.code;
    opt.dataset.ko = f.properties.name;
    opt.dataset.en = f.properties.name_en;
    opt.textContent = f.properties.name;
    select.appendChild(opt);
  }
  const b = state.config.seoul_bbox;
  map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
  map.setMaxBounds([[b[1] - 0.15, b[0] - 0.2], [b[3] + 0.15, b[2] + 0.2]]);
  loadStations();
}

async function loadStations() {
  const st = await api("/web/basemap/stations.geojson");
  const list = $("#stations");
  const names = new Set();
  for (const f of st.features) {
    const name = f.properties.name;
    if (!names.has(name)) {
      names.add(name);
      const opt = document.createElement("option");
      opt.value = name;
      opt.label = f.properties.lines.join(", ");
      list.appendChild(opt);
    }
    const [lon, lat] = f.geometry.coordinates;
    L.circleMarker([lat, lon], { renderer: renderers.stations, pane: "stations", radius: 3.5, color: "#fff", weight: 1.5, fillColor: "#20202a", fillOpacity: 1 })
      .bindTooltip(`${esc(name)} <small>${esc(f.properties.lines.join(", "))}</small>`)
      .on("click", (e) => onMapClick(e, null, name))
      .addTo(layers.stations);
  }
  updateZoomLayers();
}

async function updateZoomLayers() {
  const z = map.getZoom();
  if (z >= 12) {
    if (!layers.roads) {
      layers.roads = "loading";
      const roads = await api("/web/basemap/roads.geojson");
      layers.roads = L.geoJSON(roads, { renderer: renderers.roads, pane: "roads", interactive: false, style: () => ({ color: "#4d5358", weight: 1, opacity: 0.45 }) });
    }
    if (layers.roads !== "loading" && !map.hasLayer(layers.roads)) layers.roads.addTo(map);
    if (!map.hasLayer(layers.stations)) layers.stations.addTo(map);
  } else {
    if (layers.roads && layers.roads !== "loading") map.removeLayer(layers.roads);
    map.removeLayer(layers.stations);
  }
  if (z >= 14) {
    if (!layers.dong) {
      layers.dong = "loading";
      const dong = await api("/web/basemap/dong.geojson");
      layers.dong = L.geoJSON(dong, { renderer: renderers.dong, pane: "dong", interactive: false, style: () => ({ color: "#777", weight: 0.8, dashArray: "3 3", fill: false }) });
    }
    if (layers.dong !== "loading" && !map.hasLayer(layers.dong)) layers.dong.addTo(map);
  } else if (layers.dong && layers.dong !== "loading") {
    map.removeLayer(layers.dong);
  }
}

// --- risk cells -------------------------------------------------------------------------------------
function boxKm2(w, s, e, n) {
  const mid = ((s + n) / 2) * (Math.PI / 180);
  return (e - w) * 111.32 * Math.cos(mid) * (n - s) * 110.57;
}
// Split the visible part of Seoul into at most MAX_PIECES boxes the API accepts at `res`.
export function cellBoxes(bounds, seoulBox, res) {
  let w = Math.max(bounds.getWest(), seoulBox[0]);
  let s = Math.max(bounds.getSouth(), seoulBox[1]);
  let e = Math.min(bounds.getEast(), seoulBox[2]);
  let n = Math.min(bounds.getNorth(), seoulBox[3]);
  if (w >= e || s >= n) return [];
  const limit = MAX_BOX_KM2[res] * 0.95;
  let area = boxKm2(w, s, e, n);
  if (area > limit * MAX_PIECES) {
    const k = Math.sqrt((limit * MAX_PIECES) / area);
    const cx = (w + e) / 2, cy = (s + n) / 2, hw = ((e - w) * k) / 2, hh = ((n - s) * k) / 2;
    [w, e, s, n] = [cx - hw, cx + hw, cy - hh, cy + hh];
    area = boxKm2(w, s, e, n);
  }
  const pieces = Math.max(1, Math.ceil(area / limit));
  const cols = Math.ceil(Math.sqrt(pieces)), rows = Math.ceil(pieces / cols);
  const out = [];
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j < rows; j++) {
      const fmt = (x) => x.toFixed(5);
      out.push([w + ((e - w) * i) / cols, s + ((n - s) * j) / rows, w + ((e - w) * (i + 1)) / cols, s + ((n - s) * (j + 1)) / rows].map(fmt).join(","));
    }
  }
  return out;
}

let cellsSeq = 0;
async function loadCells() {
  if (!$("#show-cells").checked) {
    layers.cells.clearLayers();
    state.cellsDrawn = 0;
    return;
  }
  const seq = ++cellsSeq;
  const res = resolutionForZoom(map.getZoom());
  const boxes = cellBoxes(map.getBounds(), state.config.seoul_bbox, res);
  const at = encodeURIComponent(seoulIso(atMs()));
  $("#cells-info").textContent = t("loading");
  try {
    const parts = await Promise.all(
      boxes.map((b) => api(`/v1/risk/cells?bbox=${b}&at=${at}&resolution=${res}`).catch((err) => (err.status === 422 ? { features: [] } : Promise.reject(err))))
    );
    if (seq !== cellsSeq) return;
    const seen = new Set();
    const features = [];
    for (const p of parts) for (const f of p.features) if (!seen.has(f.id)) (seen.add(f.id), features.push(f));
    const layer = L.geoJSON({ type: "FeatureCollection", features }, {
      renderer: renderers.cells,
      pane: "cells",
      interactive: false,
      style: (f) => ({ fillColor: state.colors[f.properties.level] || "#ccc", fillOpacity: 0.62, stroke: res === 10, color: "#ffffff", weight: 0.4, opacity: 0.5 }),
    });
    layers.cells.clearLayers();
    layers.cells.addLayer(layer);
    state.cellsDrawn = features.length;
    state.cellsResolution = res;
    const counts = {};
    for (const f of features) counts[f.properties.level] = (counts[f.properties.level] || 0) + 1;
    state.cellCounts = counts;
    $("#cells-info").textContent = t("cells_info").replace("{n}", features.length.toLocaleString()).replace("{res}", res);
  } catch (err) {
    if (seq === cellsSeq) $("#cells-info").innerHTML = `<span class="error">${esc(err.message)}</span>`;
  }
}
const loadCellsSoon = debounce(loadCells, 200);

// --- exposure sites ---------------------------------------------------------------------------------
function exposurePopup(p) {
  const cases = p.cases ? ` · ${t("cases")} ${p.cases}` : "";
  return `<strong>${esc(p.place_name || t("unnamed_place"))}</strong><br>${esc(p.place_type || "")}${cases}<br>` +
    `${t("window")}: ${esc(fmtTime(p.start))} – ${esc(fmtTime(p.end, false))}` +
    (p.address ? `<br><small>${esc(p.address)}</small>` : "");
}
function addExposure(f, fresh = false) {
  const [lon, lat] = f.geometry.coordinates;
  const marker = L.circleMarker([lat, lon], {
    renderer: renderers.exposures,
    pane: "exposures",
    radius: fresh ? 9 : 5,
    color: "#000",
    weight: fresh ? 3 : 1.2,
    fillColor: "#56b4e9",
    fillOpacity: 0.95,
  }).bindPopup(exposurePopup(f.properties));
  marker.feature = f;
  layers.exposures.addLayer(marker);
  return marker;
}
let exposureSeq = 0;
async function loadExposures() {
  if (!$("#show-exposures").checked) {
    layers.exposures.clearLayers();
    state.exposureCount = 0;
    return;
  }
  const seq = ++exposureSeq;
  const at = encodeURIComponent(seoulIso(atMs()));
  const data = await api(`/v1/exposures?at=${at}&limit=2000`);
  if (seq !== exposureSeq) return;
  layers.exposures.clearLayers();
  const shown = new Set();
  for (const f of data.features) {
    shown.add(exposureKey(f));
    addExposure(f, state.freshKeys.has(exposureKey(f)));
  }
  // Sites that arrived live stay on the map while they are within retention, even when the
  // chosen time is before their start (a site announced "now" for a visit later today).
  const retentionMs = (data.retention_days || 14) * 86400e3;
  for (const f of state.liveFeatures) {
    if (!shown.has(exposureKey(f)) && Date.parse(f.properties.end) > atMs() - retentionMs) addExposure(f, true);
  }
  state.exposureCount = layers.exposures.getLayers().length;
}
const exposureKey = (f) => `${f.properties.place_name}|${f.properties.start}|${f.geometry.coordinates.join(",")}`;

// --- time -------------------------------------------------------------------------------------------
function renderTime() {
  $("#slider-out").textContent = `+${state.offsetH}h`;
  $("#time-at").textContent = fmtTime(atMs());
  const kind = $("#time-kind");
  kind.textContent = state.offsetH === 0 ? t("now_tag") : t("forecast_tag");
  $("#slider").setAttribute("aria-valuetext", `${fmtTime(atMs())} (+${state.offsetH}h)`);
}
function onTimeChange() {
  renderTime();
  refreshData();
}
const refreshData = debounce(() => {
  loadCells();
  loadExposures().catch(() => {});
  if (state.region) loadRegion(state.region);
}, 150);

// --- region panel -----------------------------------------------------------------------------------
async function loadRegion(code) {
  state.region = code;
  $("#region-select").value = code;
  if (layers.guLine) layers.guLine.setStyle((f) => ({ color: f.properties.code === code ? "#e69f00" : "#444", weight: f.properties.code === code ? 3 : 1.2, fill: false }));
  const box = $("#region-info");
  try {
    state.regionData = await api(`/v1/regions/${code}?at=${encodeURIComponent(seoulIso(atMs()))}`);
    renderRegion();
  } catch (err) {
    box.innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}
function renderRegion() {
  const r = state.regionData;
  if (!r) return;
  const d = r.distancing_level || {};
  const rules = (state.lang === "ko" ? d.rules_ko : d.rules_en) || [];
  const rt = r.rt || {};
  const levelName = (state.lang === "ko" ? d.name_ko : d.name_en) || (d.level ?? "–");
  const ahead = r.days_ahead ? ` <span class="tag">${t("days_ahead").replace("{n}", r.days_ahead)}</span>` : "";
  $("#region-info").innerHTML = `
    <strong>${esc(state.lang === "ko" ? r.name : r.name_en)}</strong> <span class="small">${esc(r.date)}</span>${ahead}
    <dl>
      <dt>${t("incidence")}</dt><dd>${fmtNum(r.incidence_per_100k?.value)} <span class="small">${t("per100k")}</span></dd>
      <dt>${t("new_cases_7d")}</dt><dd>${fmtNum(r.new_cases_7d?.value, 0)}</dd>
      <dt>Rt</dt><dd>${rt.value == null ? "–" : `${fmtNum(rt.value, 2)} <span class="small">(${fmtNum(rt.lower, 2)}–${fmtNum(rt.upper, 2)})</span>`}</dd>
      <dt>${t("person_risk")}</dt><dd>${fmtNum(r.person_risk?.value)} µCoV</dd>
      <dt>${t("distancing")}</dt><dd>${esc(levelName)}${d.official === false ? ` <span class="tag">${t("indicator_only")}</span>` : ""}</dd>
    </dl>
    ${rules.length ? `<ul>${rules.map((x) => `<li>${esc(x)}</li>`).join("")}</ul>` : ""}`;
}

// --- clicks: point risk, or picking a route end ----------------------------------------------------
async function onMapClick(e, guFeature, stationName) {
  if (state.picking) {
    const which = state.picking;
    const value = stationName || `${e.latlng.lat.toFixed(5)},${e.latlng.lng.toFixed(5)}`;
    $(`#route-${which}`).value = value;
    setPicking(null);
    placePick(which, e.latlng);
    $(`#route-${which}`).focus();
    return;
  }
  if (guFeature) loadRegion(guFeature.properties.code);
  const popup = L.popup().setLatLng(e.latlng).setContent(t("loading")).openOn(map);
  try {
    const r = await api(`/v1/risk?lat=${e.latlng.lat.toFixed(5)}&lon=${e.latlng.lng.toFixed(5)}&at=${encodeURIComponent(seoulIso(atMs()))}`);
    const top = (r.drivers || []).filter((d) => d.ucov)[0];
    const advice = (r.advice || [])[0];
    popup.setContent(
      `${stationName ? `<strong>${esc(stationName)}</strong><br>` : ""}${levelChip(r.level)} <strong>${fmtNum(r.ucov.value)} µCoV</strong> <small>${t("per_hour_visit")}</small>` +
        (top ? `<br><small>${esc(state.lang === "ko" ? top.reason_ko : top.reason_en)}</small>` : "") +
        (advice ? `<br><small>→ ${esc(state.lang === "ko" ? advice.text_ko : advice.text_en)}</small>` : "")
    );
  } catch (err) {
    popup.setContent(`<span class="error">${esc(err.message)}</span>`);
  }
}
function setPicking(which) {
  state.picking = which;
  for (const b of document.querySelectorAll(".pick")) b.setAttribute("aria-pressed", String(b.dataset.pick === which));
  map.getContainer().style.cursor = which ? "crosshair" : "";
  if (which) toast(t(which === "from" ? "pick_from" : "pick_to"));
}
const pickMarkers = {};
function placePick(which, latlng) {
  if (pickMarkers[which]) layers.picks.removeLayer(pickMarkers[which]);
  pickMarkers[which] = L.marker(latlng, { pane: "picks", title: t(which), keyboard: false }).addTo(layers.picks);
}

// --- routes -----------------------------------------------------------------------------------------
function placeOf(text) {
  const m = text.trim().match(/^(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)$/);
  return m ? { lat: Number(m[1]), lon: Number(m[2]) } : { name: text.trim() };
}
async function planRoute(ev) {
  ev.preventDefault();
  const out = $("#route-result");
  out.innerHTML = `<p class="small">${t("loading")}</p>`;
  layers.routes.clearLayers();
  try {
    const body = { from: placeOf($("#route-from").value), to: placeOf($("#route-to").value), at: seoulIso(atMs()) };
    state.routeData = await api("/v1/routes", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    drawRoutes();
  } catch (err) {
    state.routeData = null;
    out.innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}
function drawRoutes() {
  const plan = state.routeData;
  if (!plan) return;
  layers.routes.clearLayers();
  const bounds = L.latLngBounds([]);
  const alts = [...plan.alternatives].reverse(); // fastest drawn last, on top
  for (const alt of alts) {
    const style = ROUTE_STYLE[alt.objective] || ROUTE_STYLE.balanced;
    const latlngs = alt.geometry.coordinates.map(([lon, lat]) => [lat, lon]);
    L.polyline(latlngs, { renderer: renderers.routes, pane: "routes", color: "#fff", weight: 9, opacity: 0.9 }).addTo(layers.routes);
    L.polyline(latlngs, { renderer: renderers.routes, pane: "routes", color: style.color, weight: 5, dashArray: style.dashArray, lineCap: "round" })
      .bindTooltip(`${(alt.objectives || [alt.objective]).map((o) => t(o)).join(" · ")}: ${Math.round(alt.duration_s / 60)} ${t("min")}`)
      .addTo(layers.routes);
    latlngs.forEach((p) => bounds.extend(p));
  }
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 16 });
  state.routeDrawn = plan.alternatives.length;
  const lang = state.lang;
  const rows = plan.alternatives
    .map((alt) => {
      const style = ROUTE_STYLE[alt.objective] || ROUTE_STYLE.balanced;
      const names = (alt.objectives || [alt.objective]).map((o) => t(o)).join(" · ");
      const cmp = alt.comparison ? (alt.comparison[lang] || alt.comparison.ko) : "";
      return `<div class="alt" data-objective="${esc(alt.objective)}"><span class="line ${style.cls}" style="border-color:${style.color}" aria-hidden="true"></span>
        <span><strong>${esc(names)}</strong>: ${Math.round(alt.duration_s / 60)} ${t("min")}, ${fmtNum(alt.length_m / 1000, 1)} km, ${t("exposure")} ${fmtNum(alt.exposure_ucov, 2)} µCoV ${alt.max_level ? levelChip(alt.max_level) : ""}${cmp ? `<br><small>${esc(cmp)}</small>` : ""}</span></div>`;
    })
    .join("");
  const summary = plan.summary ? plan.summary[lang] || plan.summary.ko : "";
  const notes = (plan.notes || []).map((n) => `<li>${esc(n[lang] || n.ko || n.en || "")}</li>`).join("");
  $("#route-result").innerHTML = `<p class="summary" id="route-summary">${esc(summary)}</p>${rows}${notes ? `<ul class="small">${notes}</ul>` : ""}`;
}

// --- plan check (.ics) ------------------------------------------------------------------------------
async function checkCalendar(file) {
  const out = $("#plan-result");
  out.innerHTML = `<p class="small">${t("loading")} ${esc(file.name)}</p>`;
  try {
    const text = await file.text();
    state.planData = await api("/v1/itinerary", { method: "POST", headers: { "Content-Type": "text/calendar" }, body: text });
    renderPlans();
  } catch (err) {
    state.planData = null;
    out.innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}
function renderPlans() {
  const data = state.planData;
  if (!data) return;
  const ko = state.lang === "ko";
  const weeks = (data.weeks || [])
    .map((w) => `<li>${esc(w.week)}: ${fmtNum(w.ucov)} µCoV — ${t("of_budget").replace("{p}", fmtNum(w.budget_share * 100, 0))}</li>`)
    .join("");
  const items = data.plans
    .map((p) => {
      const advice = (p.alternatives || []).slice(0, 3).map((a) => `<li>${esc(ko ? a.text_ko : a.text_en)}</li>`).join("");
      const status = p.status === "checked"
        ? `${levelChip(p.level)} ${fmtNum(p.ucov?.value)} µCoV`
        : `<span class="tag">${esc(p.reason || p.status)}</span>`;
      return `<div class="plan" data-level="${esc(p.level || "")}"><div class="head"><strong>${esc(p.title)}</strong> ${status}${p.warning ? " ⚠" : ""}</div>
        <div class="small">${esc(fmtTime(p.start))} · ${esc(p.place?.name || "")}</div>${advice ? `<ul>${advice}</ul>` : ""}</div>`;
    })
    .join("");
  state.plansShown = data.plans.length;
  $("#plan-result").innerHTML = `<p class="small">${t("plans_n").replace("{n}", data.plans.length)}</p>${weeks ? `<ul class="small">${weeks}</ul>` : ""}${items}`;
}

// --- live updates (SSE) -----------------------------------------------------------------------------
function connectLive() {
  const source = new EventSource("/v1/events");
  const live = $("#live");
  source.addEventListener("ready", () => {
    live.dataset.state = "on";
    $("#live-text").textContent = t("live_on");
  });
  source.addEventListener("update", (ev) => {
    const data = JSON.parse(ev.data);
    state.liveUpdates += 1;
    state.lastLive = data;
    const newNow = Date.parse(data.now);
    if (state.offsetH === 0 && newNow > state.nowMs) state.nowMs = newNow; // "now" follows the data
    const feats = (data.exposures && data.exposures.features) || [];
    for (const f of feats) {
      state.freshKeys.add(exposureKey(f));
      state.liveFeatures.push(f);
      addExposure(f, true); // at once, before the layers are refetched
    }
    if (feats.length) {
      const p = feats[0].properties;
      toast(`${t("new_exposure")}: ${p.place_name || t("unnamed_place")} (${fmtTime(p.start)})`);
    }
    renderTime();
    loadCells();
    loadExposures().catch(() => {});
    if (state.region) loadRegion(state.region);
  });
  source.onerror = () => {
    live.dataset.state = "off";
    $("#live-text").textContent = t("live_off");
  };
}

// --- language ---------------------------------------------------------------------------------------
function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const b of document.querySelectorAll(".pick")) b.setAttribute("aria-label", t(b.dataset.pick === "from" ? "pick_from" : "pick_to"));
  $("#lang").textContent = state.lang === "ko" ? "EN" : "한국어";
  $("#lang").setAttribute("aria-label", state.lang === "ko" ? "English" : "한국어로 보기");
  $("#map").setAttribute("aria-label", t("map"));
  $("#live-text").textContent = t($("#live").dataset.state === "on" ? "live_on" : "live_off");
  for (const opt of document.querySelectorAll("#region-select option[data-ko]")) opt.textContent = state.lang === "ko" ? opt.dataset.ko : opt.dataset.en;
  renderLegend();
  renderTime();
  renderRegion();
  drawRoutesText();
  renderPlans();
}
function drawRoutesText() {
  if (state.routeData) drawRoutes();
}
function renderLegend() {
  $("#legend").innerHTML = state.levels
    .map((l, i) => {
      const lo = [0, 3, 25, 100, 300, 1000][i];
      const hi = [3, 25, 100, 300, 1000, null][i];
      const range = hi === null ? `≥ ${lo.toLocaleString()}` : `${lo}–${hi.toLocaleString()}`;
      return `<li><span class="sw" style="background:${l.color}" aria-hidden="true"></span>${esc(state.lang === "ko" ? l.name_ko : l.name_en)} <span class="small">${range}</span></li>`;
    })
    .join("");
}

// --- start ------------------------------------------------------------------------------------------
async function start() {
  const params = new URLSearchParams(location.search);
  state.lang = params.get("lang") || localStorage.getItem("ansim.lang") || "ko";
  if (!TEXT[state.lang]) state.lang = "ko";
  state.config = await api("/web/config.json");
  state.nowMs = Date.parse(state.config.now);
  state.levels = state.config.levels;
  for (const l of state.levels) state.colors[l.key] = l.color;
  $("#slider").max = String(state.config.forecast_hours);
  applyLanguage();
  await loadBasemap();
  map.on("moveend", () => {
    updateZoomLayers();
    loadCellsSoon();
  });
  $("#slider").addEventListener("input", (e) => {
    state.offsetH = Number(e.target.value);
    onTimeChange();
  });
  $("#to-now").addEventListener("click", () => {
    state.offsetH = 0;
    $("#slider").value = "0";
    onTimeChange();
  });
  $("#show-cells").addEventListener("change", loadCells);
  $("#show-exposures").addEventListener("change", () => loadExposures().catch(() => {}));
  $("#region-select").addEventListener("change", (e) => e.target.value && loadRegion(e.target.value));
  $("#route-form").addEventListener("submit", planRoute);
  for (const b of document.querySelectorAll(".pick")) b.addEventListener("click", () => setPicking(state.picking === b.dataset.pick ? null : b.dataset.pick));
  document.addEventListener("keydown", (e) => e.key === "Escape" && state.picking && setPicking(null));
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "ko" ? "en" : "ko";
    localStorage.setItem("ansim.lang", state.lang);
    applyLanguage();
  });
  const drop = $("#drop");
  drop.addEventListener("dragover", (e) => (e.preventDefault(), drop.classList.add("over")));
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = e.dataTransfer.files[0];
    if (file) checkCalendar(file);
  });
  $("#ics").addEventListener("change", (e) => e.target.files[0] && checkCalendar(e.target.files[0]));
  await Promise.all([loadCells(), loadExposures().catch(() => {})]);
  connectLive();
  state.ready = true;
  document.body.dataset.ready = "true";
}
start().catch((err) => {
  document.body.dataset.ready = "error";
  toast(`${t("error")}: ${err.message}`);
});
