// mockserver dashboard: listens to /api/mock/v1/stream (Server-Sent Events) and draws the fake cluster.
// Plain JavaScript, no build step, no external requests; every action goes through the control API.
"use strict";

const CONTROL = "/api/mock/v1";
const MAX_EVENTS = 500;
const MAX_HISTORY = 100; // phase changes kept per workload, as the server's hub.py sends them
const MAX_ROWS = 300;
const OUTCOMES = ["Completed", "Failed", "ContainerFailure", "Preempted"];
const TERMINAL = new Set(["Completed", "Failed"]);

const state = {
  snapshot: null,
  events: [],
  clock: { mode: null, speed: 1, now: null, at: 0 },
  chosenOutcome: {}, // workloadId -> outcome picked in the table, kept across redraws
  kind: "", // the workload type the table shows ("" for every kind)
};

// ---------------------------------------------------------------- helpers
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "style") node.style.cssText = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function replace(container, children) {
  container.replaceChildren(...children);
}

// Puts `nodes` in `container` in order, leaving in place those already there: an unchanged row keeps its
// open select or focused button while the rest of the table updates.
function sync(container, nodes) {
  nodes.forEach((node, i) => {
    if (container.children[i] !== node) container.insertBefore(node, container.children[i] || null);
  });
  while (container.children.length > nodes.length) container.lastChild.remove();
}

// The i-th colour handed out: hue and lightness follow a two-dimensional low-discrepancy sequence (the
// plastic number's R2), so every new colour lands far from all the earlier ones in both. Hue alone (the
// golden angle) puts the 20th colour a few degrees from an earlier one; with lightness the first 40 stay
// clearly apart.
const R2 = 1.324717957244746;

function colorAt(i) {
  const hue = ((0.75 + i / R2) % 1) * 360;
  const lightness = 35 + 38 * ((0.75 + i / (R2 * R2)) % 1);
  return `hsl(${hue.toFixed(1)}, 65%, ${lightness.toFixed(1)}%)`;
}

const colors = new Map(); // workloadId -> colour, by order of first sight

function color(id) {
  if (!id) return "#56606b";
  if (!colors.has(id)) colors.set(id, colorAt(colors.size));
  return colors.get(id);
}

function fmtNumber(value) {
  if (value === -1) return "∞";
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/0+$/, "").replace(/\.$/, "");
}

// Every GPU figure on the page is in devices: a fraction of a device as a fraction, a MIG slice as its
// share of its GPU (a 2g slice of a 7g GPU: 2/7 ≈ 0.29).
function gpus(value) {
  return `${fmtNumber(value)} ${value === 1 ? "GPU" : "GPUs"}`;
}

function migShare(profile) {
  return Number(profile.split("g.")[0]) / 7;
}

function migCharge(profile) {
  return Number(profile.split("g.")[0]); // what the scheduler charges a slice to a quota
}

function timeOfDay(iso) {
  return iso ? iso.slice(11, 23) : "";
}

function showTime(ms) {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

function notice(text, isError) {
  const box = document.getElementById("notice");
  box.textContent = text || "";
  box.className = isError ? "error" : "";
}

// An exposed server's control API wants its token: the page takes it from its address, /#token=….
const TOKEN = new URLSearchParams(location.hash.slice(1)).get("token");

function authHeaders() {
  return TOKEN ? { Authorization: `Bearer ${TOKEN}` } : {};
}

async function control(method, path, body) {
  const response = await fetch(CONTROL + path, {
    method,
    // X-Mock-Control: the server refuses a state-changing control call a page of another site could send.
    headers: {
      ...authHeaders(),
      "X-Mock-Control": "1",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new Error((data && data.message) || `${method} ${path}: ${response.status}`);
  }
  return data;
}

async function act(description, fn) {
  try {
    await fn();
    notice(description);
  } catch (error) {
    notice(error.message, true);
  }
}

// ---------------------------------------------------------------- who is who
function names() {
  const map = {};
  const snap = state.snapshot;
  if (!snap) return map;
  for (const w of snap.workloads || []) map[w.workloadId] = w.name;
  for (const l of snap.loads || []) map[l.workloadId] = `${l.name} (load)`;
  return map;
}

function placements() {
  // "node/index" -> [{id, fraction}], "node/mig/profile" -> [id], id -> [pod], id -> job
  const devices = {};
  const slices = {};
  const byJob = {};
  const jobs = {};
  for (const job of (state.snapshot && state.snapshot.jobs) || []) {
    byJob[job.id] = job.pods || [];
    jobs[job.id] = job;
    for (const pod of job.pods || []) {
      if (pod.migProfile) {
        const key = `${pod.node}/mig/${pod.migProfile}`;
        (slices[key] = slices[key] || []).push(job.id);
      }
      for (const device of pod.devices || []) {
        const key = `${pod.node}/${device.index}`;
        (devices[key] = devices[key] || []).push({ id: job.id, fraction: device.fraction });
      }
    }
  }
  return { devices, slices, byJob, jobs };
}

// ---------------------------------------------------------------- drawing
function drawClock() {
  const c = state.clock;
  const target = document.getElementById("clock");
  if (c.now === null) return;
  let now = c.now;
  if (c.mode === "realtime") now += (performance.now() - c.at) * c.speed;
  target.textContent = showTime(now);
  const mode = document.getElementById("clock-mode");
  mode.textContent = c.mode === "manual" ? "manual clock" : `realtime ×${fmtNumber(c.speed)}`;
  const manual = c.mode === "manual";
  const group = document.getElementById("advance-controls");
  group.classList.toggle("disabled", !manual);
  group.title = manual ? "" : "the clock is realtime; start mockserver with --clock manual to advance it";
  for (const control of group.querySelectorAll("button, input")) control.disabled = !manual;
}

function setClock(data) {
  if (data.mode) state.clock.mode = data.mode;
  if (data.speed !== undefined) state.clock.speed = data.speed;
  if (data.now) {
    state.clock.now = Date.parse(data.now);
    state.clock.at = performance.now();
  }
  drawClock();
}

function drawNodes() {
  const snap = state.snapshot;
  const who = names();
  const { devices, slices } = placements();
  let used = 0;
  let total = 0;
  const pools = (snap.nodePools || []).map((pool) => {
    const nodes = snap.nodes.filter((n) => n.pool === pool);
    const [usedBefore, totalBefore] = [used, total];
    const cards = nodes.map((node) => {
      const mig = Object.entries(node.mig || {});
      const gpuTiles = mig.length ? null : el("div", { class: "gpus" }, node.devices.map((device) => {
        total += 1;
        used += device.allocated;
        let holders = devices[`${node.name}/${device.index}`];
        if (!holders) {
          const share = device.holders.length ? device.allocated / device.holders.length : 0;
          holders = device.holders.map((id) => ({ id, fraction: share }));
        }
        const title = [`${node.name} GPU ${device.index}: ${fmtNumber(device.allocated)} of it allocated`]
          .concat(holders.map((h) => `${who[h.id] || h.id}: ${fmtNumber(h.fraction)}`))
          .join("\n");
        return el(
          "div",
          { class: "gpu", title, "data-node": node.name, "data-index": device.index, "data-allocated": device.allocated },
          holders.map((h) =>
            el("div", { class: "seg", "data-holder": h.id, style: `height:${Math.min(100, h.fraction * 100)}%;background:${color(h.id)}` }),
          ),
          el("span", { class: "idx" }, device.index),
        );
      }));
      const migTiles = mig.length
        ? el("div", { class: "mig" }, mig.flatMap(([profile, count]) => {
            const holders = slices[`${node.name}/mig/${profile}`] || [];
            return Array.from({ length: count.capacity }, (_, i) => {
              const id = i < count.used ? holders[i] || "" : null;
              return el(
                "div",
                {
                  class: id === null ? "slice" : "slice used",
                  "data-node": node.name,
                  "data-profile": profile,
                  "data-holder": id || null,
                  title: `${profile} (${fmtNumber(migShare(profile))} of a GPU): ` +
                    (id === null ? "free" : who[id] || id || "in use"),
                  style: id === null ? null : `background:${color(id)}`,
                },
                profile,
              );
            });
          }))
        : null;
      if (mig.length) {
        total += node.gpus;
        for (const [profile, count] of mig) used += migShare(profile) * count.used;
      }
      const extended = Object.entries(node.extendedResources || {}).map(
        ([name, r]) => `${name} ${fmtNumber(r.used)}/${fmtNumber(r.capacity)}`,
      );
      return el(
        "div",
        { class: node.ready === false ? "node down" : "node", "data-node": node.name },
        el("div", { class: "name" }, node.ready === false ? `${node.name} · NotReady` : node.name),
        el("div", { class: "spec" }, `${node.gpus} × ${node.gpuModel || "GPU"}${mig.length ? " · MIG" : ""}`),
        gpuTiles,
        migTiles,
        el(
          "div",
          { class: "res" },
          `CPU ${fmtNumber(node.cpuMillisUsed / 1000)}/${fmtNumber(node.cpuMillis / 1000)} · ` +
            `mem ${fmtNumber(Math.round(node.memoryMiBUsed / 1024))}/${fmtNumber(Math.round(node.memoryMiB / 1024))} GiB` +
            (extended.length ? ` · ${extended.join(" · ")}` : ""),
        ),
      );
    });
    const poolText = `${fmtNumber(used - usedBefore)} of ${gpus(total - totalBefore)} allocated`;
    return el(
      "div",
      { class: "pool", "data-pool": pool },
      el("h3", {}, `pool ${pool} · ${nodes.length} ${nodes.length === 1 ? "node" : "nodes"} · ${poolText}`),
      el("div", { class: "pool-nodes" }, cards),
    );
  });
  replace(document.getElementById("nodes"), pools);
  document.getElementById("gpu-summary").textContent = `${fmtNumber(used)} of ${gpus(total)} allocated`;
}

function history(workload) {
  if (workload.history && workload.history.length) return workload.history;
  return state.events
    .filter((e) => e.workloadId === workload.workloadId && e.kind === "phase")
    .map((e) => ({ time: e.time, phase: e.phase, reason: e.message }));
}

function podText(pod) {
  if (pod.migProfile) return `${pod.node} ${pod.migProfile}`;
  const held = (pod.devices || []).map((d) => (d.fraction < 1 ? `${d.index}×${fmtNumber(d.fraction)}` : d.index));
  return held.length ? `${pod.node} GPU ${held.join(",")}` : pod.node;
}

function placementText(pods) {
  return (pods || []).map(podText).join("; ");
}

// A workload's pods as one group: how many run of how many it asked for, then where each one runs. A
// gang (all pods placed together or none) says so while it waits.
function podGroup(w, job, pods) {
  const requested = job ? job.requestedPods : pods.length;
  const running = job ? job.runningPods : pods.length;
  const lines = pods.map((pod) => el("li", { class: "pod" }, podText(pod)));
  const head = requested > 1 || w.gang ? `${running} of ${requested} pods running${w.gang ? " · gang" : ""}` : null;
  return el(
    "div",
    { class: "pod-group", "data-pods": requested, "data-running": running },
    head ? el("div", { class: "reason" }, head) : null,
    lines.length ? el("ul", { class: "pods mono" }, lines) : null,
  );
}

const rowCache = new Map(); // workloadId -> {key, row}: rows are rebuilt only when what they show changed

function drawKindFilter(all) {
  const select = document.getElementById("kind-filter");
  const types = [...new Set(all.map((w) => w.type))].sort();
  if (state.kind && !types.includes(state.kind)) types.push(state.kind);
  const wanted = ["", ...types];
  const have = [...select.options].map((o) => o.value);
  if (JSON.stringify(have) !== JSON.stringify(wanted)) {
    replace(select, wanted.map((t) => el("option", { value: t, selected: t === state.kind }, t || "every kind")));
  }
}

function drawWorkloads() {
  const snap = state.snapshot;
  const { byJob, jobs } = placements();
  const all = snap.workloads || [];
  drawKindFilter(all);
  const chosen = state.kind ? all.filter((w) => w.type === state.kind) : all;
  // Newest first, where a client's latest submissions are; a long-running fake keeps the table bounded.
  const shown = chosen.slice(-MAX_ROWS).reverse();
  const rows = shown.map((w) => {
    const key = JSON.stringify([w, byJob[w.workloadId] || [], jobs[w.workloadId] || null, history(w)]);
    const cached = rowCache.get(w.workloadId);
    if (cached && cached.key === key) return cached.row;
    const row = workloadRow(w, byJob[w.workloadId] || [], jobs[w.workloadId]);
    rowCache.set(w.workloadId, { key, row });
    return row;
  });
  const live = new Set(all.map((w) => w.workloadId));
  for (const id of rowCache.keys()) if (!live.has(id)) rowCache.delete(id);
  sync(document.querySelector("#workloads tbody"), rows);
  document.getElementById("no-workloads").hidden = all.length > 0;
  const running = chosen.filter((w) => w.actualPhase === "Running").length;
  const hidden = chosen.length > rows.length ? ` · newest ${rows.length} shown` : "";
  const kinds = state.kind ? ` ${state.kind}` : "";
  document.getElementById("workload-summary").textContent = chosen.length
    ? `${chosen.length}${kinds} · ${running} running${hidden}`
    : "";
  const allRunning = all.filter((w) => w.actualPhase === "Running").length;
  document.title = all.length ? `(${allRunning}/${all.length} running) mockserver` : "mockserver · Run:ai fake cluster";
}

function highlight(id) {
  for (const node of document.querySelectorAll("#nodes .focus")) node.classList.remove("focus");
  if (!id) return;
  for (const node of document.querySelectorAll(`#nodes [data-holder="${id}"]`)) node.classList.add("focus");
}

function workloadRow(w, pods, job) {
  const chosen = state.chosenOutcome[w.workloadId] || "Completed";
  const select = el(
    "select",
    { "aria-label": `outcome for ${w.name}`, onchange: (e) => (state.chosenOutcome[w.workloadId] = e.target.value) },
    OUTCOMES.map((o) => el("option", { value: o, selected: o === chosen }, o)),
  );
  const apply = el(
    "button",
    {
      type: "button",
      class: "force",
      disabled: TERMINAL.has(w.actualPhase),
      onclick: () =>
        act(`${w.name}: outcome ${select.value} applied`, () =>
          control("POST", `/trainings/${w.workloadId}/outcome`, { outcome: select.value }),
        ),
    },
    "Apply",
  );
  return el(
    "tr",
    {
      "data-workload": w.workloadId,
      "data-type": w.type,
      // Pointing at a workload outlines what it holds on the nodes above.
      onmouseenter: () => highlight(w.workloadId),
      onmouseleave: () => highlight(null),
    },
    el("td", { class: "name" }, el("span", { class: "swatch", style: `background:${color(w.workloadId)}` }), w.name,
      el("div", {}, el("span", { class: "kind-badge", "data-type": w.type }, w.type),
        el("span", { class: "reason mono" }, ` ${w.workloadId.slice(0, 8)}`))),
    el("td", {}, w.projectId),
    el("td", {}, el("span", { class: `phase current ${w.actualPhase}` }, w.actualPhase),
      // Only a request to stop or delete is news: every live workload wants to run.
      w.desiredPhase !== "Running" && w.desiredPhase !== w.actualPhase
        ? el("span", { class: "desired" }, ` → ${w.desiredPhase}`) : null,
      el("div", { class: "time reason", title: "in this phase since" }, timeOfDay(w.phaseSince)),
      w.pendingReason ? el("div", { class: "reason clamp", title: w.pendingReason }, w.pendingReason) : null),
    el("td", {}, `${w.restarts}/${w.backoffLimit}`),
    el("td", {}, podGroup(w, job, pods)),
    el("td", {}, el("div", { class: "history" }, history(w).map((h) =>
      el("span", { class: `phase ${h.phase}`, title: `${timeOfDay(h.time)}${h.reason ? " · " + h.reason : ""}` }, h.phase)))),
    el("td", {}, el("div", { class: "outcome" }, select, apply)),
  );
}

function drawLoads() {
  const loads = state.snapshot.loads || [];
  const { byJob } = placements();
  document.getElementById("loads-panel").hidden = loads.length === 0;
  const rows = loads.map((l) =>
    el(
      "tr",
      { "data-workload": l.workloadId },
      el("td", { class: "nowrap" }, el("span", { class: "swatch", style: `background:${color(l.workloadId)}` }), l.name),
      el("td", {}, l.projectId),
      el("td", {}, el("span", { class: `phase ${l.running ? "Running" : "Pending"}` }, l.running ? "Running" : "Pending")),
      el("td", {}, l.priority),
      el("td", {}, l.preemptible ? "yes" : "no"),
      el("td", { class: "mono" }, placementText(byJob[l.workloadId])),
    ),
  );
  replace(document.querySelector("#loads tbody"), rows);
}

// Why a pending workload waits: the scheduler's own reason, and for a gang that nothing starts alone.
function waitReason(p, job) {
  const reason = p.pendingReason || (job && job.pendingReason) || "waiting for the next scheduling cycle";
  if (!p.gang || !job) return [reason];
  return [reason, `gang of ${job.requestedPods} pods: none starts until all of them can be placed at once`];
}

function drawQueue() {
  const snap = state.snapshot;
  const { jobs } = placements();
  const pending = [
    ...(snap.workloads || []).filter((w) => w.actualPhase === "Pending"),
    ...(snap.loads || []).filter((l) => !l.running).map((l) => ({ ...l, type: "load" })),
  ];
  const items = pending.map((p) =>
    el(
      "li",
      { "data-workload": p.workloadId, "data-type": p.type },
      el("span", { class: "swatch", style: `background:${color(p.workloadId)}` }),
      el("strong", {}, p.name),
      el("span", { class: "muted" }, ` · project ${p.projectId} · ${p.type}`),
      waitReason(p, jobs[p.workloadId]).map((r) => el("div", { class: "reason" }, r)),
    ),
  );
  replace(document.getElementById("queue"), items);
  document.getElementById("no-queue").hidden = items.length > 0;
  document.getElementById("queue-summary").textContent = items.length ? String(items.length) : "";
}

// The scheduler charges a MIG slice to a quota by its g count (a 2g slice: 2), as KAI does; the page counts
// GPUs in devices everywhere, so a slice shows as its share of a GPU here too. Per pool, per project:
// the charge minus the devices, subtracted from the scheduler's figure.
function migOvercharge() {
  const extra = {};
  for (const job of (state.snapshot && state.snapshot.jobs) || []) {
    for (const pod of job.pods || []) {
      if (!pod.migProfile) continue;
      const key = `${job.projectId}/${pod.pool}`;
      extra[key] = (extra[key] || 0) + migCharge(pod.migProfile) - migShare(pod.migProfile);
    }
  }
  return extra;
}

function quotaBar(q, shown) {
  const scale = Math.max(shown, q.deserved, q.fairShare, q.limit > 0 ? q.limit : 0, 1);
  const pct = (v) => `${Math.min(100, (v / scale) * 100)}%`;
  const charged = shown !== q.allocated ? ` (charged ${fmtNumber(q.allocated)}: a MIG slice by its g count)` : "";
  return el(
    "div",
    { class: "bar", title: `allocated ${gpus(shown)}${charged}, deserved ${fmtNumber(q.deserved)}, fair share ${fmtNumber(q.fairShare)}, limit ${fmtNumber(q.limit)}` },
    // Over quota as the scheduler judges it (its charge), which is what reclaim looks at.
    el("div", { class: q.allocated > q.deserved ? "fill over" : "fill", style: `width:${pct(shown)}` }),
    el("div", { class: "mark", style: `left:${pct(q.deserved)}` }),
    el("div", { class: "fair", style: `left:${pct(q.fairShare)}` }),
  );
}

function drawQuotas() {
  const snap = state.snapshot;
  const extra = migOvercharge();
  const projectsOf = {};
  for (const p of snap.projects || []) (projectsOf[p.departmentId] = projectsOf[p.departmentId] || []).push(p.id);
  const overcharge = (who, cls, pool) =>
    (cls === "department" ? projectsOf[who.id] || [] : [who.id]).reduce((sum, id) => sum + (extra[`${id}/${pool}`] || 0), 0);
  const tables = (snap.nodePools || []).map((pool) => {
    const rows = [];
    for (const dept of snap.departments || []) {
      const entries = [{ who: dept, cls: "department" }].concat(
        (snap.projects || []).filter((p) => p.departmentId === dept.id).map((p) => ({ who: p, cls: "project" })),
      );
      for (const { who, cls } of entries) {
        const q = (who.nodePools || {})[pool];
        if (!q) continue;
        const shown = Math.max(0, Math.round((q.allocated - overcharge(who, cls, pool)) * 1e6) / 1e6);
        rows.push(
          el(
            "tr",
            { class: cls, "data-pool": pool, "data-id": who.id },
            el("td", {}, `${who.name} (${who.id})`),
            el("td", { class: "mono" }, `${fmtNumber(shown)} / ${fmtNumber(q.deserved)}`),
            el("td", { class: "mono" }, fmtNumber(q.fairShare)),
            el("td", { class: "mono" }, fmtNumber(q.limit)),
            el("td", {}, quotaBar(q, shown)),
          ),
        );
      }
    }
    return el(
      "div",
      { class: "pool" },
      el("h3", {}, `pool ${pool}`),
      el(
        "table",
        { class: "quota-table" },
        el("thead", {}, el("tr", {}, ["", "alloc / deserved", "fair", "limit", ""].map((h) => el("th", {}, h)))),
        el("tbody", {}, rows),
      ),
    );
  });
  replace(document.getElementById("quotas"), tables);
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

function drawEvents(fresh) {
  const who = names();
  const named = (text) => text.replace(UUID, (id) => who[id] || id); // "preempted by <uuid>" -> by its name
  const list = document.getElementById("events");
  const items = state.events
    .slice()
    .reverse()
    .map((e) =>
      el(
        "li",
        { class: fresh && fresh.has(e.seq) ? "fresh" : null, "data-seq": e.seq },
        el("span", { class: "time" }, timeOfDay(e.time)),
        el("span", { class: "kind" }, e.kind),
        el("span", {}, e.workloadId && who[e.workloadId] ? `${who[e.workloadId]}: ` : "", named(e.message),
          // A scheduler's eviction in KAI's words, then what it means in plain ones.
          e.explain ? el("div", { class: "explain" }, named(e.explain)) : null),
      ),
    );
  replace(list, items);
  document.getElementById("event-summary").textContent = state.events.length ? `last ${state.events.length}` : "";
}

function drawAll() {
  const snap = state.snapshot;
  if (!snap) return;
  document.getElementById("cluster").textContent = `cluster ${snap.clusterId}`;
  drawNodes();
  drawWorkloads();
  drawLoads();
  drawQueue();
  drawQuotas();
  drawEvents();
}

// ---------------------------------------------------------------- the stream
// Read with fetch rather than EventSource: it can send the control token that an exposed server
// (mockserver --expose) asks for, and it sees the status of a refused connection.
const RECONNECT_MS = 2000;

function setLive(up, why) {
  const live = document.getElementById("live");
  live.classList.toggle("up", up);
  live.title = up ? "live stream: connected" : `live stream: ${why || "reconnecting"}`;
}

// The key of each table's rows in a `delta` frame (as the server's hub.py names them).
const KEYS = { workloads: "workloadId", loads: "workloadId", jobs: "id", nodes: "name", projects: "id", departments: "id" };

// A delta upserts rows by key (a changed row keeps its place, a new one goes last) and removes ids.
function applyDelta(snap, delta) {
  for (const [table, rows] of Object.entries(delta.upsert || {})) {
    const key = KEYS[table];
    const list = snap[table] || (snap[table] = []);
    const at = new Map(list.map((row, i) => [row[key], i]));
    for (const row of rows) {
      const i = at.get(row[key]);
      // A workload's row brings only the phases after its `historyFrom`-th: they follow what the page holds.
      if (row.historyFrom !== undefined && i !== undefined) {
        row.history = (list[i].history || []).concat(row.history).slice(-MAX_HISTORY);
        delete row.historyFrom;
      }
      if (i === undefined) {
        at.set(row[key], list.length);
        list.push(row);
      } else list[i] = row;
    }
  }
  for (const [table, ids] of Object.entries(delta.remove || {})) {
    const gone = new Set(ids);
    snap[table] = (snap[table] || []).filter((row) => !gone.has(row[KEYS[table]]));
  }
  snap.now = delta.now;
}

const handlers = {
  snapshot(data) {
    state.snapshot = data;
    setClock({ now: data.now });
    drawAll();
  },
  delta(data) {
    if (!state.snapshot) return; // a snapshot always comes first on a stream
    applyDelta(state.snapshot, data);
    setClock({ now: data.now });
    drawAll();
  },
  events(fresh) {
    const known = new Set(state.events.map((e) => e.seq));
    state.events = state.events.concat(fresh.filter((e) => !known.has(e.seq))).slice(-MAX_EVENTS);
    drawEvents(new Set(fresh.map((e) => e.seq)));
    if (state.snapshot) drawWorkloads();
  },
  clock(data) {
    setClock(data);
  },
  reset(data) {
    state.events = [];
    setClock(data);
    drawEvents();
  },
};

function dispatch(block) {
  let kind = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) kind = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (data.length && handlers[kind]) handlers[kind](JSON.parse(data.join("\n")));
}

async function listen() {
  for (;;) {
    let why = "reconnecting";
    try {
      // From the start each time: after a restart of the server its log starts again from 1.
      const response = await fetch(`${CONTROL}/stream`, { headers: authHeaders(), cache: "no-store" });
      if (response.status === 401) {
        why = "refused";
        notice("This server is exposed: open the dashboard as /#token=<the control token printed at start>.", true);
      } else if (response.ok && response.body) {
        state.events = [];
        setLive(true);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
            dispatch(buffer.slice(0, cut));
            buffer = buffer.slice(cut + 2);
          }
        }
      }
    } catch (error) {
      // the server stopped or the network dropped: try again shortly
    }
    setLive(false, why);
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
}

// ---------------------------------------------------------------- controls
function wireControls() {
  document.getElementById("kind-filter").addEventListener("change", (e) => {
    state.kind = e.target.value;
    drawWorkloads();
  });
  const advance = (seconds) =>
    act(`advanced ${fmtNumber(seconds)} s`, async () => setClock(await control("POST", "/clock/advance", { seconds })));
  for (const button of document.querySelectorAll("#advance-controls button[data-seconds]")) {
    button.addEventListener("click", () => advance(Number(button.dataset.seconds)));
  }
  document.getElementById("advance-go").addEventListener("click", () => {
    const seconds = Number(document.getElementById("advance-seconds").value);
    if (!(seconds >= 0)) return notice("enter a number of seconds", true);
    advance(seconds);
  });
  document.getElementById("reset").addEventListener("click", () =>
    act("reset: no workloads, clock at its start, no faults", async () => {
      await control("POST", "/reset");
      showFaults(await control("GET", "/faults"));
    }),
  );
  document.getElementById("fault-apply").addEventListener("click", () =>
    act("faults applied", async () => {
      const faults = await control("PUT", "/faults", {
        latencySeconds: Number(document.getElementById("fault-latency").value || 0),
        errorRate: Number(document.getElementById("fault-rate").value || 0),
        errorStatus: Number(document.getElementById("fault-status").value),
      });
      showFaults(faults);
    }),
  );
}

function showFaults(faults) {
  document.getElementById("fault-latency").value = faults.latencySeconds;
  document.getElementById("fault-rate").value = faults.errorRate;
  document.getElementById("fault-status").value = String(faults.errorStatus);
}

async function start() {
  wireControls();
  setInterval(() => state.clock.mode === "realtime" && drawClock(), 250);
  try {
    setClock(await control("GET", "/clock"));
    showFaults(await control("GET", "/faults"));
  } catch (error) {
    notice(error.message, true);
  }
  listen();
}

start();
