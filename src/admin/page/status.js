// smsgate's status page: asks /status every 2 s with the admin token of this tab and draws
// carriers, binds, queue depth, throughput and the last messages' outcomes. The token
// comes from ?token= once (then removed from the address bar and history) or from a
// prompt, and is kept in sessionStorage only: it ends with the tab, is never written to
// localStorage, a cookie or the URL again, and is only sent as an Authorization header
// to this origin (the page's Content-Security-Policy allows no other).
"use strict";

const KEY = "smsgate-admin-token";
const PERIOD_MS = 2000;
let access = "read";

function token() {
  const url = new URL(window.location.href);
  const given = url.searchParams.get("token");
  if (given) {
    sessionStorage.setItem(KEY, given);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  let t = sessionStorage.getItem(KEY);
  if (!t) {
    t = window.prompt("smsgate admin token (read-only is enough to view) / 管理トークン");
    if (t) sessionStorage.setItem(KEY, t);
  }
  return t;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function figure(label, value, id) {
  return el("div", { class: "figure", id }, el("b", {}, value), label);
}

function duration(secs) {
  const d = Math.floor(secs / 86400), h = Math.floor(secs % 86400 / 3600);
  const m = Math.floor(secs % 3600 / 60), s = secs % 60;
  return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + s + "s";
}

async function api(method, path) {
  const t = token();
  const res = await fetch(path, {
    method,
    headers: t ? { Authorization: "Bearer " + t } : {},
    cache: "no-store",
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  let body = null;
  try { body = await res.json(); } catch (_) { body = null; }
  if (res.status === 401) sessionStorage.removeItem(KEY);
  if (!res.ok) throw new Error((body && body.error) || res.status + " " + res.statusText);
  return body;
}

function showError(message) {
  const e = document.getElementById("error");
  e.textContent = message || "";
  e.hidden = !message;
  const c = document.getElementById("conn");
  c.textContent = message ? "error" : "live";
  c.className = "badge " + (message ? "bad" : "ok");
}

async function act(carrier, verb, button) {
  button.disabled = true;
  try {
    await api("POST", "/carriers/" + encodeURIComponent(carrier) + "/" + verb);
    await refresh();
  } catch (e) {
    showError(verb + " " + carrier + ": " + e.message);
  } finally {
    button.disabled = false;
  }
}

function drawCarrier(c) {
  const box = el("div", { class: "carrier", id: "carrier-" + c.name, "data-admin-state": c.admin_state });
  const title = el("h3", {}, c.name,
    el("span", { class: "state " + c.admin_state, "data-role": "admin-state" }, c.admin_state),
    el("span", { class: "muted" }, c.route_kinds.join(", ")));
  if (c.unavailable) title.append(el("span", { class: "state unavailable" }, "failing over"));
  if (access === "full") {
    const verb = c.admin_state === "stopped" ? "start" : "stop";
    const b = el("button", { type: "button", "data-action": verb }, verb);
    b.addEventListener("click", () => act(c.name, verb, b));
    title.append(el("span", { class: "actions" }, b));
  }
  box.append(title);
  const queued = Object.entries(c.queued).map(([k, v]) => k + " " + v).join(", ") || "0";
  box.append(el("p", {}, "queued: " + queued + " · window in use: " + c.window_in_use +
    " · " + c.tps.toFixed(1) + " msg/s" + (c.last_error ? " · last error: " + c.last_error : "")));
  const rows = c.binds.map(b => el("tr", { "data-bind": b.index, "data-state": b.state },
    el("td", {}, "#" + b.index),
    el("td", {}, el("span", { class: "state " + b.state }, b.state)),
    el("td", {}, b.mode || ""),
    el("td", {}, b.in_flight + " / " + b.window),
    el("td", {}, b.rate.toFixed(0) + "/s"),
    el("td", {}, b.last_error || "")));
  box.append(el("table", { class: "binds" },
    el("thead", {}, el("tr", {}, ...["bind", "state", "mode", "in flight", "rate", "last error"].map(h => el("th", {}, h)))),
    el("tbody", {}, ...rows)));
  return box;
}

function draw(s) {
  access = s.access;
  document.getElementById("uptime").textContent = "up " + duration(s.uptime_secs);
  const t = s.totals;
  document.getElementById("totals").replaceChildren(
    figure("binds up / 接続", t.binds_up + " / " + t.binds, "total-binds"),
    figure("queued / 待機", t.queued, "total-queued"),
    figure("open / 未完了", t.open, "total-open"),
    figure("unmatched receipts", t.unmatched, "total-unmatched"),
    ...(s.webhooks ? [
      figure("webhooks pending", s.webhooks.pending, "webhooks-pending"),
      figure("webhook dead letters", s.webhooks.dead, "webhooks-dead")] : []));
  document.getElementById("carriers").replaceChildren(...s.carriers.map(drawCarrier));
  document.querySelector("#recent tbody").replaceChildren(...s.recent.map(o =>
    el("tr", { "data-state": o.state },
      el("td", {}, o.id), el("td", {}, o.carrier), el("td", {}, o.state),
      el("td", {}, new Date(o.at).toLocaleString("ja-JP")))));
}

async function refresh() {
  try {
    draw(await api("GET", "/status"));
    showError("");
  } catch (e) {
    showError(e.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    window.location.reload();
  });
  refresh();
  setInterval(refresh, PERIOD_MS);
});
