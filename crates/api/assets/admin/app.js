// The panel's shell: session, program picker, navigation by location.hash, and rendering.
"use strict";

const App = {};

const PAGES = [
  // [hash, nav key, who sees it]
  ["#/dashboard", "nav.dashboard", null],
  ["#/members", "nav.members", null],
  ["#/campaigns", "nav.campaigns", null],
  ["#/rewards", "nav.rewards", null],
  ["#/raffles", "nav.raffles", null],
  ["#/seasons", "nav.seasons", null],
  ["#/polls", "nav.polls", null],
  ["#/broadcasts", "nav.broadcasts", null],
  ["#/bulk", "nav.bulk", null],
  ["#/review", "nav.review", null],
  ["#/leaderboards", "nav.leaderboards", null],
  ["#/rules", "nav.rules", null],
  ["#/audit-log", "nav.audit", null],
  ["#/auditor", "nav.auditor", "audit"],
  ["#/users", "nav.users", "administer"],
];

function renderNav() {
  const nav = clear(document.getElementById("nav"));
  const current = (location.hash || "#/dashboard").split(/[/?]/).slice(0, 2).join("/");
  for (const [hash, key, permission] of PAGES) {
    if (permission && !can(permission)) continue;
    nav.append(el("a", { href: hash, class: hash === current ? "active" : "" , "data-page": hash.slice(2) }, I18n.t(key)));
  }
}

// Renders run one after another: an overlapping render (a hash change while a page is still
// loading) would otherwise append a second page into the same view.
let renderChain = Promise.resolve();
App.render = function (options) {
  const run = () => renderNow(options || {});
  renderChain = renderChain.then(run, run);
  return renderChain;
};

// The tab names the program, so a manager with two brands open tells the tabs apart.
function setTitle() {
  const program = Admin.programs.find((p) => p.program_id === Admin.program);
  document.title = (program ? program.name + " · " : "") + I18n.t("app.title");
}

async function renderNow(options) {
  // `data-ready` names the page only once it is drawn: not while another render clears it.
  if (!options.live) document.body.removeAttribute("data-ready");
  renderNav();
  setTitle();
  Live.follow();
  const shown = document.getElementById("view");
  // A live refresh renders aside and swaps only what changed, at once, so the page the
  // manager reads neither blinks nor scrolls.
  const view = options.live ? shown.cloneNode(false) : clear(shown);
  if (!options.live) Live.edited = false;
  const hash = location.hash || "#/dashboard";
  const [path, query] = hash.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (!Admin.program && !["users", "auditor", "account"].includes(parts[0])) {
    view.append(el("p", { class: "muted" }, I18n.t("app.no_program")));
    if (can("administer")) view.append(programForm());
    return;
  }
  try {
    switch (parts[0]) {
      case "members":
        if (parts[1]) await Views.member(view, parts[1]);
        else await Views.members(view, params);
        break;
      case "campaigns":
        if (parts[1]) await Views.campaign(view, parts[1]); else await Views.campaigns(view);
        break;
      case "rewards":
        if (parts[1]) await Views.reward(view, parts[1]); else await Views.rewards(view);
        break;
      case "raffles": await Views.raffles(view); break;
      case "seasons":
        if (parts[1]) await Views.season(view, parts[1]); else await Views.seasons(view);
        break;
      case "polls": await Views.polls(view); break;
      case "broadcasts":
        if (parts[1]) await Views.broadcast(view, parts[1], params); else await Views.broadcasts(view);
        break;
      case "bulk": await Views.bulkAdjustments(view); break;
      case "review": await Views.review(view, params); break;
      case "leaderboards": await Views.leaderboards(view, params); break;
      case "rules":
        await Views.rules(view);
        await Views.brand(view);
        await Views.channels(view);
        await Views.managersChat(view);
        if (can("administer")) view.append(programForm());
        break;
      case "audit-log": await Views.auditLog(view, params); break;
      case "auditor": await Views.auditor(view); break;
      case "users": await Views.users(view); break;
      case "account": await Views.account(view); break;
      default: await Views.dashboard(view, params);
    }
  } catch (e) {
    view.append(el("p", { class: "error", id: "view-error" }, errorText(e)));
  }
  // The manager may have started something while this read was under way: then the news
  // waits for them.
  if (options.live && !view.isEqualNode(shown)) {
    if (Live.busy()) {
      Live.waiting = true;
    } else {
      shown.replaceChildren(...view.childNodes);
      Live.refreshed += 1;
      document.body.dataset.liveRefreshes = String(Live.refreshed);
    }
  }
  Live.show();
  document.body.setAttribute("data-ready", hash);
}

// Live pages: the dashboard, a member card, the leaderboards, a season's board and the review
// queue (its read model may show a decision a moment after the answer) read themselves again
// when the server says the read models moved (server-sent events), at most once a second, or
// every POLL_MS while the stream is down. A page being edited is not replaced under the
// manager's hands: the header offers the new activity instead.
const Live = { source: null, program: null, state: "off", edited: false, waiting: false, last: 0, timer: null, poll: null, refreshed: 0 };
const LIVE_POLL_MS = 15000;

Live.onPage = function () {
  const parts = (location.hash || "#/dashboard").slice(1).split("?")[0].split("/").filter(Boolean);
  return !parts[0] || parts[0] === "dashboard" || parts[0] === "leaderboards" || parts[0] === "review"
    || ((parts[0] === "members" || parts[0] === "seasons") && parts.length > 1);
};

// Follows the selected program's stream (reconnecting when the program changes).
Live.follow = function () {
  if (Live.program === Admin.program && Live.source) return;
  if (Live.source) Live.source.close();
  Live.source = null;
  Live.program = Admin.program;
  if (!Admin.program) return;
  if (!window.EventSource) { Live.polling(); return; }
  const source = new EventSource(programPath("/live"));
  Live.source = source;
  source.addEventListener("ready", () => {
    clearInterval(Live.poll);
    Live.poll = null;
    Live.state = "on";
    Live.show();
  });
  source.addEventListener("projected", () => Live.changed());
  // The browser reconnects by itself; until it does, the page polls.
  source.addEventListener("error", () => Live.polling());
};

Live.polling = function () {
  Live.state = "polling";
  if (!Live.poll) Live.poll = setInterval(() => Live.changed(), LIVE_POLL_MS);
  Live.show();
};

Live.busy = function () {
  const view = document.getElementById("view");
  const focused = document.activeElement;
  return Live.edited || !!document.querySelector("dialog[open], #reason-box")
    || (focused && view.contains(focused) && ["INPUT", "TEXTAREA", "SELECT"].includes(focused.tagName));
};

Live.changed = function () {
  if (!Live.onPage()) return;
  if (Live.busy()) { Live.waiting = true; Live.show(); return; }
  const wait = Math.max(0, Live.last + 1000 - Date.now());
  clearTimeout(Live.timer);
  Live.timer = setTimeout(() => {
    if (Live.busy()) { Live.waiting = true; Live.show(); return; }
    Live.last = Date.now();
    Live.waiting = false;
    App.render({ live: true });
  }, wait);
};

Live.show = function () {
  const badge = document.getElementById("live");
  const on = Live.onPage() && Live.state !== "off";
  badge.hidden = !on;
  document.body.dataset.live = on ? Live.state : "off";
  if (!on) return;
  badge.className = "live " + (Live.waiting ? "waiting" : Live.state);
  badge.textContent = Live.waiting ? I18n.t("live.waiting")
    : I18n.t(Live.state === "on" ? "live.on" : "live.polling");
  badge.title = I18n.t(Live.waiting ? "live.waiting_hint" : Live.state === "on" ? "live.on_hint" : "live.polling_hint");
};

function programForm() {
  const key = newKey();
  const submit = el("button", { type: "submit", id: "program-submit" }, I18n.t("program.create"));
  const form = el("form", { class: "inline", id: "program-form" },
    el("label", {}, I18n.t("program.name"), el("input", { id: "program-name", required: true })),
    el("label", {}, I18n.t("program.zone"), el("input", { id: "program-zone", required: true, value: "Europe/Moscow" })),
    submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { name: document.getElementById("program-name").value,
      time_zone: document.getElementById("program-zone").value };
    submitChange(submit, () => api("POST", "/api/v1/admin/programs", body, key), async (reply) => {
      Admin.program = reply.created_id;
      localStorage.setItem("admin.program", Admin.program);
      await loadPrograms();
      await App.render();
    });
  });
  return el("div", { class: "card" }, el("h2", {}, I18n.t("program.new")), form);
}

async function loadPrograms() {
  const { programs, default_program } = await api("GET", "/api/v1/admin/programs");
  Admin.programs = programs;
  const saved = localStorage.getItem("admin.program");
  const known = (id) => programs.some((p) => p.program_id === id);
  Admin.program = [Admin.program, saved, default_program, programs[0] && programs[0].program_id]
    .find((id) => id && known(id)) || null;
  const select = clear(document.getElementById("program"));
  for (const p of programs) {
    select.append(el("option", { value: p.program_id, selected: p.program_id === Admin.program }, p.name));
  }
}

(async function boot() {
  I18n.apply(document);
  try {
    Admin.session = await api("GET", "/api/v1/admin/session");
  } catch (_) {
    window.location.assign("/admin");
    return;
  }
  document.getElementById("whoami").textContent =
    Admin.session.username + " · " + I18n.t("role." + Admin.session.role);
  wireLangSwitch(() => {
    document.getElementById("whoami").textContent =
      Admin.session.username + " · " + I18n.t("role." + Admin.session.role);
    App.render();
  });
  document.getElementById("logout").addEventListener("click", async () => {
    try { await api("DELETE", "/api/v1/admin/session"); } finally { window.location.assign("/admin"); }
  });
  document.getElementById("program").addEventListener("change", (e) => {
    Admin.program = e.target.value;
    localStorage.setItem("admin.program", Admin.program);
    App.render();
  });
  await loadPrograms();
  document.getElementById("live").addEventListener("click", () => {
    Live.waiting = false;
    Live.edited = false;
    App.render({ live: true });
  });
  // Typing into a form marks the page as edited until it is rendered again.
  document.getElementById("view").addEventListener("input", () => { Live.edited = true; });
  window.addEventListener("hashchange", () => {
    document.getElementById("toast").hidden = true;
    App.render();
  });
  await App.render();
})();
