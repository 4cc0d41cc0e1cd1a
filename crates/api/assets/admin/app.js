// The panel's shell: session, program picker, navigation by location.hash, and rendering.
"use strict";

const App = {};

const PAGES = [
  // [hash, nav key, who sees it]
  ["#/dashboard", "nav.dashboard", null],
  ["#/members", "nav.members", null],
  ["#/campaigns", "nav.campaigns", null],
  ["#/rewards", "nav.rewards", null],
  ["#/polls", "nav.polls", null],
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
App.render = function () {
  renderChain = renderChain.then(renderNow, renderNow);
  return renderChain;
};

// The tab names the program, so a manager with two brands open tells the tabs apart.
function setTitle() {
  const program = Admin.programs.find((p) => p.program_id === Admin.program);
  document.title = (program ? program.name + " · " : "") + I18n.t("app.title");
}

async function renderNow() {
  renderNav();
  setTitle();
  const view = clear(document.getElementById("view"));
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
      case "polls": await Views.polls(view); break;
      case "leaderboards": await Views.leaderboards(view, params); break;
      case "rules":
        await Views.rules(view);
        await Views.channels(view);
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
  document.body.setAttribute("data-ready", hash);
}

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
  window.addEventListener("hashchange", () => {
    document.getElementById("toast").hidden = true;
    App.render();
  });
  await App.render();
})();
