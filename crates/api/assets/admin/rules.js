// The program's rules as a form: points and pauses per network and activity, caps and the other
// settings, each with its unit, checked in the panel's language next to the field; before
// saving, the panel says in words what changes, and it lists every earlier version with who
// changed what.
"use strict";

const RULE_KINDS = ["comment", "mention", "reaction", "poll_vote", "repost", "message", "subscription", "codeword"];
const RULE_NETWORKS = ["instagram", "vk", "telegram"];
const MAX_RULE_POINTS = 1000000000; // domain::points::MAX_POINTS_DELTA
const MAX_U32 = 4294967295;
// The settings beside the points table: [field, kind, unit key, lowest, highest].
// "cap": a whole number, empty for none; "count": a whole number; "flag": a checkbox.
const RULE_SETTINGS = [
  ["daily_cap", "cap", "rules.unit.points_day", 1, MAX_RULE_POINTS],
  ["daily_cap_per_network", "cap", "rules.unit.points_day", 1, MAX_RULE_POINTS],
  ["min_comment_chars", "count", "rules.unit.chars", 0, MAX_U32],
  ["refuse_repeated_text", "flag"],
  ["repeated_text_window_days", "count", "rules.unit.days", 0, 3650],
  ["reverse_on_delete", "flag"],
  ["reverse_on_leave", "flag"],
  ["relink_cooldown_days", "count", "rules.unit.days", 0, 365], // domain MAX_RELINK_COOLDOWN_DAYS
  // Held for review (domain::review::ReviewRules): empty or 0 holds nothing.
  ["review.per_minute", "cap", "rules.unit.awards", 1, MAX_U32],
  ["review.per_hour", "cap", "rules.unit.awards", 1, MAX_U32],
  ["review.codeword_over", "cap", "rules.unit.points", 1, MAX_RULE_POINTS],
  ["review.new_member_hours", "count", "rules.unit.hours", 0, 720], // domain MAX_NEW_MEMBER_HOURS
  // Tiers (domain::tier::TierRules): the ladder itself is the table below the settings.
  ["tiers.window_days", "count", "rules.unit.days", 0, 730], // domain MAX_TIER_WINDOW_DAYS
  // Expiry (domain::expiry::ExpiryRules): 0 days is never; the warning must be the shorter.
  ["expiry.after_days", "count", "rules.unit.days", 0, 3650], // domain MAX_EXPIRY_DAYS
  ["expiry.warn_days", "count", "rules.unit.days", 0, 3650],
];
const MAX_TIERS = 10; // domain::tier::MAX_TIERS
const MAX_TIER_NAME = 40; // domain::tier::MAX_TIER_NAME_CHARS

// A setting's value; `review.per_minute` names a field of the nested `review` object.
function settingOf(rules, field) {
  const value = field.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), rules);
  return value === undefined ? null : value;
}

function setSetting(rules, field, value) {
  const path = field.split(".");
  const last = path.pop();
  const parent = path.reduce((o, k) => (o[k] = Object.assign({}, o[k] || {})), rules);
  parent[last] = value;
}

function settingId(field) {
  return "rules-" + field.replace(".", "-");
}

function ruleOf(rules, network, kind) {
  return (rules.points || []).find((r) => r.network === network && r.kind === kind) || null;
}

// A whole number typed into `input` within [lo, hi]; "" when empty. Throws the error text.
function wholeNumber(input, lo, hi) {
  const text = input.value.trim();
  if (text === "") return "";
  if (!/^-?[0-9]+$/.test(text)) throw I18n.t("rules.error.whole");
  const n = Number(text);
  if (n < lo || n > hi) throw I18n.t("rules.error.range", { lo: fmtNum(lo), hi: fmtNum(hi) });
  return n;
}

// The rules the form says, built on `base` (which keeps what the form does not show: the
// brand's own accounts); null when a field is wrong, each wrong field then shows why.
function rulesFromForm(form, base) {
  const rules = Object.assign({}, base, { points: [] });
  let ok = true;
  const read = (input, lo, hi) => {
    const error = form.querySelector("#" + input.id + "-error");
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    try { return wholeNumber(input, lo, hi); } catch (text) {
      error.textContent = text;
      input.setAttribute("aria-invalid", "true");
      ok = false;
      return "";
    }
  };
  for (const network of RULE_NETWORKS) {
    for (const kind of RULE_KINDS) {
      const points = read(form.querySelector(`#rule-${network}-${kind}`), 1, MAX_RULE_POINTS);
      const pause = read(form.querySelector(`#rule-${network}-${kind}-pause`), 0, MAX_U32);
      if (points !== "") rules.points.push({ network, kind, points, cooldown_seconds: pause === "" ? 0 : pause });
    }
  }
  for (const [field, type, , lo, hi] of RULE_SETTINGS) {
    const input = form.querySelector("#" + settingId(field));
    if (type === "flag") { setSetting(rules, field, input.checked); continue; }
    const value = read(input, lo, hi);
    setSetting(rules, field, type === "cap" ? (value === "" ? null : value) : (value === "" ? 0 : value));
  }
  // The ladder: a row counts once it has a name; its threshold is then required and a blank
  // multiplier is 100%. Order and distinct names are the server's to check, with its reason.
  const levels = [];
  for (let i = 0; i < MAX_TIERS; i++) {
    const name = form.querySelector(`#tier-${i}-name`);
    if (!name) break;
    const nameError = form.querySelector(`#tier-${i}-name-error`);
    nameError.textContent = "";
    const threshold = read(form.querySelector(`#tier-${i}-threshold`), 1, MAX_RULE_POINTS);
    const multiplier = read(form.querySelector(`#tier-${i}-multiplier`), 100, 500);
    const text = name.value.trim();
    if (text === "") {
      if (threshold !== "") { nameError.textContent = I18n.t("rules.tiers.name_needed"); ok = false; }
      continue;
    }
    if (text.length > MAX_TIER_NAME) { nameError.textContent = I18n.t("rules.tiers.name_long", { n: MAX_TIER_NAME }); ok = false; }
    if (threshold === "") {
      form.querySelector(`#tier-${i}-threshold-error`).textContent = I18n.t("rules.tiers.threshold_needed");
      ok = false;
    }
    levels.push({ name: text, threshold, multiplier_percent: multiplier === "" ? 100 : multiplier });
  }
  rules.tiers = Object.assign({}, rules.tiers || {}, { levels });
  return ok ? rules : null;
}

// "Silver from 100 (×1.5), Gold from 500 (×2)", or "none".
function ladderText(rules) {
  const levels = (rules.tiers && rules.tiers.levels) || [];
  if (levels.length === 0) return I18n.t("rules.none");
  return levels.map((l) => I18n.t("rules.tiers.level", {
    name: l.name, threshold: fmtNum(l.threshold), x: fmtNum(l.multiplier_percent / 100) })).join(", ");
}

function settingText(field, value) {
  if (value === null || value === undefined) return I18n.t("rules.none");
  if (value === true) return I18n.t("rules.on");
  if (value === false) return I18n.t("rules.off");
  if (field === "repeated_text_window_days" && value === 0) return I18n.t("rules.forever");
  return fmtNum(value);
}

// What changes from `before` to `after`, one sentence each, in the panel's language.
function rulesChanges(before, after) {
  const lines = [];
  // Activity names are lower case in Russian, and some sentences start with one.
  const say = (text) => lines.push(text.charAt(0).toUpperCase() + text.slice(1));
  for (const network of RULE_NETWORKS) {
    for (const kind of RULE_KINDS) {
      const was = ruleOf(before, network, kind), now = ruleOf(after, network, kind);
      const what = { network: networkName(network), kind: I18n.t("kind." + kind) };
      if (!was && now) say(I18n.t("rules.change.added", Object.assign({ new: fmtNum(now.points) }, what)));
      else if (was && !now) say(I18n.t("rules.change.removed", Object.assign({ old: fmtNum(was.points) }, what)));
      else if (was && now) {
        if (was.points !== now.points) {
          say(I18n.t("rules.change.points", Object.assign({ old: fmtNum(was.points), new: fmtNum(now.points) }, what)));
        }
        if ((was.cooldown_seconds || 0) !== (now.cooldown_seconds || 0)) {
          say(I18n.t("rules.change.pause", Object.assign({
            old: fmtNum(was.cooldown_seconds || 0), new: fmtNum(now.cooldown_seconds || 0) }, what)));
        }
      }
    }
  }
  for (const [field, type] of RULE_SETTINGS) {
    // A count left out of the JSON (the server omits a zero) is 0.
    const read = (rules) => { const v = settingOf(rules, field); return v === null && type === "count" ? 0 : v; };
    const was = read(before), now = read(after);
    if (was !== now) {
      say(I18n.t("rules.change.setting", {
        field: I18n.t("rules.field." + field), old: settingText(field, was), new: settingText(field, now) }));
    }
  }
  const was = ladderText(before), now = ladderText(after);
  if (was !== now) say(I18n.t("rules.change.tiers", { old: was, new: now }));
  if ((before.own_accounts || []).length !== (after.own_accounts || []).length) {
    say(I18n.t("rules.change.own", { n: (after.own_accounts || []).length }));
  }
  return lines;
}

// The tier ladder: one row per level (the ones set and, for an admin, empty ones up to the
// most a program may have), with how many members stand on each now.
function ladderForm(rules, editable, input, error, counts) {
  const levels = (rules.tiers && rules.tiers.levels) || [];
  const shown = editable ? Math.min(MAX_TIERS, levels.length + 2) : levels.length;
  const members = (name) => {
    const c = (counts || []).find((t) => t.tier === name);
    return c ? c.members : 0;
  };
  const rows = [];
  for (let i = 0; i < shown; i++) {
    const l = levels[i] || {};
    const name = el("input", { id: `tier-${i}-name`, size: 14, maxlength: MAX_TIER_NAME, value: l.name || "",
      disabled: !editable, "aria-describedby": `tier-${i}-name-error`, "aria-label": I18n.t("rules.tiers.name") });
    rows.push(el("tr", { class: "tier-row" },
      el("td", {}, name, error(`tier-${i}-name`)),
      el("td", {}, input(`tier-${i}-threshold`, l.threshold), error(`tier-${i}-threshold`)),
      el("td", {}, input(`tier-${i}-multiplier`, l.multiplier_percent), error(`tier-${i}-multiplier`)),
      el("td", { class: "muted", id: `tier-${i}-members` }, l.name ? fmtNum(members(l.name)) : "")));
  }
  return el("div", { class: "tier-ladder", id: "rules-tiers" },
    el("h3", {}, I18n.t("rules.tiers.title")),
    el("p", { class: "muted help" }, I18n.t("rules.tiers.help")),
    shown === 0 ? el("p", { class: "muted" }, I18n.t("rules.tiers.none")) :
      el("table", { class: "rules-table" },
        el("thead", {}, el("tr", {}, ["name", "threshold", "multiplier", "members"].map((c) =>
          el("th", {}, I18n.t("rules.tiers." + c))))),
        el("tbody", {}, rows)));
}

function rulesForm(rules, editable, counts) {
  const input = (id, value) => el("input", { id, inputmode: "numeric", size: 6, value: value === null || value === undefined ? "" : String(value),
    disabled: !editable, "aria-describedby": id + "-error" });
  const error = (id) => el("span", { class: "field-error", id: id + "-error", role: "alert" });
  const head = el("tr", {}, el("th", {}, I18n.t("rules.activity")), RULE_NETWORKS.map((n) =>
    el("th", { colspan: 2 }, networkName(n))));
  const units = el("tr", { class: "muted" }, el("th", {}), RULE_NETWORKS.flatMap(() =>
    [el("th", {}, I18n.t("rules.unit.points")), el("th", {}, I18n.t("rules.unit.pause"))]));
  const rows = RULE_KINDS.map((kind) => el("tr", {}, el("td", {}, I18n.t("kind." + kind)),
    RULE_NETWORKS.flatMap((network) => {
      const rule = ruleOf(rules, network, kind);
      const id = `rule-${network}-${kind}`;
      return [el("td", {}, input(id, rule && rule.points), error(id)),
        el("td", {}, input(id + "-pause", rule && rule.cooldown_seconds ? rule.cooldown_seconds : ""), error(id + "-pause"))];
    })));
  const settings = RULE_SETTINGS.map(([field, type, unit]) => {
    const id = settingId(field);
    const value = settingOf(rules, field);
    const control = type === "flag"
      ? el("input", { type: "checkbox", id, checked: !!value, disabled: !editable })
      : input(id, value === null && type === "count" ? 0 : value);
    return el("div", { class: "rule-setting" },
      el("label", { for: id }, I18n.t("rules.field." + field)), control,
      unit ? el("span", { class: "muted" }, " " + I18n.t(unit)) : null,
      type === "flag" ? null : error(id),
      el("p", { class: "muted help" }, I18n.t("rules.help." + field)));
  });
  return el("form", { id: "rules-form", novalidate: true },
    el("p", { class: "muted" }, I18n.t("rules.table_help")),
    el("div", { class: "table-scroll" }, el("table", { class: "rules-table" }, el("thead", {}, head, units), el("tbody", {}, rows))),
    el("div", { class: "rule-settings" }, settings),
    ladderForm(rules, editable, input, error, counts),
    el("p", { class: "muted" }, I18n.t("rules.own", { n: (rules.own_accounts || []).length })));
}

Views.rules = async function (view) {
  const [current, history] = await Promise.all([
    api("GET", programPath("/rules")), api("GET", programPath("/rules/history"))]);
  const editable = can("administer");
  const form = rulesForm(current.rules, editable, current.tier_members);
  const preview = el("ul", { id: "rules-preview" });
  const showPreview = () => {
    const next = rulesFromForm(form, current.rules);
    const lines = next ? rulesChanges(current.rules, next) : [];
    clear(preview).append(...(next ? (lines.length ? lines : [I18n.t("rules.unchanged")]) : [I18n.t("rules.fix")])
      .map((line) => el("li", {}, line)));
    return { next, lines };
  };
  view.append(el("h1", {}, I18n.t("nav.rules")),
    el("p", { class: "muted" }, I18n.t("rules.version", { version: current.version, zone: current.time_zone })),
    el("div", { class: "card" }, form));
  if (editable) {
    const key = newKey();
    const save = el("button", { type: "button", id: "rules-save" }, I18n.t("rules.save"));
    form.addEventListener("input", showPreview);
    form.addEventListener("change", showPreview);
    save.addEventListener("click", async () => {
      const { next, lines } = showPreview();
      if (!next || lines.length === 0) return;
      const sure = await Manage.confirm(I18n.t("rules.confirm_title"), lines.join(" "), I18n.t("rules.save"));
      if (!sure) return;
      submitChange(save, () => api("PUT", programPath("/rules"), { rules: next }, key), () => App.render());
    });
    showPreview();
    view.append(el("div", { class: "card", id: "rules-changes" },
      el("h2", {}, I18n.t("rules.preview")), preview, save));
  }
  const versions = history.versions;
  view.append(el("div", { class: "card", id: "rules-history" }, el("h2", {}, I18n.t("rules.history")),
    versions.map((v, i) => {
      const older = versions[i + 1];
      const lines = older ? rulesChanges(older.rules, v.rules) : [I18n.t("rules.first")];
      return el("div", { class: "rules-version" },
        el("strong", {}, I18n.t("rules.version_n", { n: v.version })), " · ", fmtTime(v.at), " · ", v.by,
        el("ul", {}, (lines.length ? lines : [I18n.t("rules.unchanged")]).map((line) => el("li", {}, line))));
    })));
};

// The brand on the Rules page: how the program looks to members in the Mini App (name, accent
// colour, logo, community links). Admins change it; everyone else reads it.
Views.brand = async function (view) {
  let area = document.getElementById("brand-area");
  if (area) clear(area);
  else view.append(area = el("div", { id: "brand-area" }));
  const b = await api("GET", programPath("/brand"));
  const reload = () => Views.brand(view);
  const admin = can("administer");
  const field = (id, key, value, placeholder) => el("label", {}, I18n.t(key),
    el("input", { id, value: value || "", placeholder, disabled: !admin, autocomplete: "off" }));
  const card = el("div", { class: "card", id: "brand" }, el("h2", {}, I18n.t("brand.title")),
    el("p", { class: "muted" }, I18n.t("brand.hint")));
  if (b.logo_hash) {
    card.append(el("img", { id: "brand-logo", class: "brand-logo", alt: I18n.t("brand.logo"),
      src: "/app/brand/" + encodeURIComponent(Admin.program) + "/logo/" + encodeURIComponent(b.logo_hash) }));
  }
  const submit = el("button", { type: "submit", id: "brand-submit", disabled: !admin }, I18n.t("brand.save"));
  const form = el("form", { id: "brand-form", class: "stack" },
    field("brand-name", "brand.name", b.display_name, I18n.t("brand.name_placeholder")),
    field("brand-color", "brand.color", b.accent_color, "#1f6feb"),
    field("brand-vk", "brand.vk", b.links.vk, "https://vk.com/…"),
    field("brand-telegram", "brand.telegram", b.links.telegram, "@channel"),
    field("brand-instagram", "brand.instagram", b.links.instagram, "@account"),
    submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const value = (id) => document.getElementById(id).value;
    const body = { display_name: value("brand-name"), accent_color: value("brand-color"),
      vk: value("brand-vk"), telegram: value("brand-telegram"), instagram: value("brand-instagram") };
    submitChange(submit, () => api("PUT", programPath("/brand"), body), reload);
  });
  card.append(form);
  if (admin) {
    const file = el("input", { type: "file", id: "brand-logo-file", accept: "image/png,image/jpeg,image/webp" });
    file.addEventListener("change", () => {
      if (file.files.length === 0) return;
      submitChange(file, () => api("PUT", programPath("/brand/logo"), file.files[0]), reload);
    });
    const logo = el("label", {}, I18n.t("brand.logo"), file, el("span", { class: "muted" }, I18n.t("brand.logo_hint")));
    card.append(logo);
    if (b.logo_hash) {
      const remove = el("button", { type: "button", class: "danger", id: "brand-logo-remove" }, I18n.t("brand.remove_logo"));
      remove.addEventListener("click", () => submitChange(remove, () => api("DELETE", programPath("/brand/logo")), reload));
      card.append(remove);
    }
  }
  if (b.updated_by) {
    card.append(el("p", { class: "muted", id: "brand-changed" }, I18n.t("brand.changed", { who: b.updated_by, at: fmtTime(b.updated_at) })));
  }
  area.append(card);
};
