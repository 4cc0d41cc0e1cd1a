// Broadcasts: a manager's message to an audience of members in their chat with the bot, now or
// at a time. The form shows how many members the audience reaches as the filters change and
// asks before sending; the list follows each broadcast's progress (every 2 s while one is
// sending or due) and can stop one; a broadcast's page shows each recipient's outcome.
// Text from the server (messages, names, errors) is only set with textContent (through el()).
"use strict";

// Telegram's limits: a message's text, and a photo's caption (UTF-16 code units, as JS counts).
const BROADCAST_MAX_TEXT = 4096;
const BROADCAST_MAX_CAPTION = 1024;
const BROADCAST_MAX_LABEL = 64;
const BROADCAST_STATUSES = ["scheduled", "sending", "done", "stopped"];
const BROADCAST_OUTCOMES = ["sent", "blocked", "failed", "unknown", "pending"];
const BROADCAST_REFRESH_MS = 2000;
// A form field per field name of the server's `invalid_broadcast` message ("field: why").
const BROADCAST_FIELDS = {
  text: "broadcast-text", image_url: "broadcast-image", button_label: "broadcast-button-label",
  active_days: "broadcast-active-days", min_balance: "broadcast-min-balance",
  min_lifetime: "broadcast-min-lifetime", send_at: "broadcast-send-at",
};

// One refresh timer for whichever broadcasts page is shown; it ends when the page is gone.
let broadcastTimer = null;

function broadcastsPath(rest) {
  return programPath("/broadcasts" + (rest || ""));
}

function broadcastDue(b) {
  return b.status === "sending" || (b.status === "scheduled" && Date.parse(b.send_at) <= Date.now());
}

function broadcastActive(b) {
  return b.status === "scheduled" || b.status === "sending";
}

function broadcastBadge(b) {
  const known = BROADCAST_STATUSES.includes(b.status);
  const text = !known ? b.status
    : b.status === "scheduled" && !broadcastDue(b) ? I18n.t("broadcast.status.scheduled_for", { when: fmtTime(b.send_at) })
    : b.status === "scheduled" ? I18n.t("broadcast.status.due")
    : I18n.t("broadcast.status." + b.status);
  return el("span", { class: "badge broadcast-status broadcast-" + (known ? b.status : "unknown"), "data-status": b.status }, text);
}

function byWhom(actor) {
  return String(actor || "—").replace(/^manager:/, "");
}

// The audience in words: each filter that is set.
function audienceText(a, campaigns) {
  const parts = [];
  if (a.network) parts.push(I18n.t("broadcast.aud.network", { network: networkName(a.network) }));
  if (a.active_days) parts.push(I18n.t("broadcast.aud.active", { n: fmtNum(a.active_days) }));
  if (a.min_balance !== undefined && a.min_balance !== null) parts.push(I18n.t("broadcast.aud.balance", { n: fmtNum(a.min_balance) }));
  if (a.min_lifetime !== undefined && a.min_lifetime !== null) parts.push(I18n.t("broadcast.aud.lifetime", { n: fmtNum(a.min_lifetime) }));
  if (a.campaign_id) {
    const c = (campaigns || []).find((x) => x.campaign_id === a.campaign_id);
    parts.push(I18n.t("broadcast.aud.campaign", { name: c ? c.name : a.campaign_id }));
  }
  return parts.length ? parts.join(" · ") : I18n.t("broadcast.aud.everyone");
}

// A bar of the outcomes (sent, blocked, failed, unknown, then pending) and their counts.
function broadcastProgress(b) {
  const p = b.progress || {};
  const total = p.recipients || 0;
  const box = el("div", { class: "broadcast-progress" });
  if (total === 0) {
    box.append(el("p", { class: "muted broadcast-no-recipients" },
      I18n.t(b.status === "scheduled" ? "broadcast.fixed_later"
        : b.status === "stopped" && !b.started_at ? "broadcast.never_sent" : "broadcast.nobody")));
    return box;
  }
  const bar = el("div", { class: "broadcast-bar", role: "img",
    "aria-label": I18n.t("broadcast.progress_label", { done: fmtNum(total - (p.pending || 0)), total: fmtNum(total) }) });
  for (const outcome of BROADCAST_OUTCOMES) {
    const n = p[outcome] || 0;
    if (!n) continue;
    const part = el("span", { class: "seg seg-" + outcome, title: I18n.t("broadcast.outcome." + outcome) + ": " + fmtNum(n) });
    // Through the CSSOM: the panel's Content-Security-Policy allows no style attributes.
    part.style.width = (100 * n / total) + "%";
    bar.append(part);
  }
  const counts = el("p", { class: "broadcast-counts" }, BROADCAST_OUTCOMES.map((outcome) =>
    el("span", { class: "broadcast-count", "data-outcome": outcome },
      el("i", { class: "dot seg-" + outcome }), I18n.t("broadcast.outcome." + outcome) + ": ",
      el("strong", {}, fmtNum(p[outcome] || 0)))),
  el("span", { class: "broadcast-count muted" }, I18n.t("broadcast.of", { n: fmtNum(total) })));
  box.append(bar, counts);
  return box;
}

function broadcastCard(b, campaigns, full) {
  const path = broadcastsPath("/" + encodeURIComponent(b.broadcast_id));
  const text = full || b.text.length <= 280 ? b.text : b.text.slice(0, 280) + "…";
  const card = el("div", { class: "card broadcast", "data-broadcast-id": b.broadcast_id, "data-status": b.status },
    el("h2", {}, broadcastBadge(b), " ",
      el("span", { class: "muted broadcast-when" }, I18n.t("broadcast.created", { when: fmtTime(b.created_at), by: byWhom(b.created_by) }))),
    el("p", { class: "broadcast-text" }, text),
    b.image_url ? el("p", { class: "broadcast-image muted" }, I18n.t("broadcast.image") + ": ",
      el("span", { class: "mono" }, b.image_url)) : null,
    b.button_label ? el("p", { class: "broadcast-button muted" }, I18n.t("broadcast.button") + ": ",
      el("span", { class: "broadcast-button-label" }, b.button_label)) : null,
    el("p", { class: "broadcast-audience muted" }, I18n.t("broadcast.audience") + ": " + audienceText(b.audience || {}, campaigns)),
    broadcastProgress(b));
  const facts = [];
  if (b.started_at) facts.push(I18n.t("broadcast.started", { when: fmtTime(b.started_at) }));
  if (b.finished_at) {
    facts.push(b.status === "stopped"
      ? I18n.t("broadcast.stopped_by", { when: fmtTime(b.finished_at), by: byWhom(b.stopped_by) })
      : I18n.t("broadcast.finished", { when: fmtTime(b.finished_at) }));
  }
  if (facts.length) card.append(el("p", { class: "muted broadcast-facts" }, facts.join(" · ")));
  const actions = el("p", { class: "broadcast-actions" });
  if (!full) {
    actions.append(el("a", { class: "broadcast-details", href: "#/broadcasts/" + encodeURIComponent(b.broadcast_id) },
      I18n.t("broadcast.details") + " →"), " ");
  }
  if (can("manage") && broadcastActive(b)) {
    actions.append(el("button", { type: "button", class: "danger small broadcast-stop", onclick: async (e) => {
      const button = e.target;
      const pending = b.progress && b.progress.recipients ? b.progress.pending : null;
      if (!await Manage.confirm(I18n.t("broadcast.stop_title"),
        pending === null ? I18n.t("broadcast.stop_unsent") : I18n.t("broadcast.stop_consequence", { n: fmtNum(pending) }),
        I18n.t("broadcast.stop"))) return;
      submitChange(button, () => api("POST", path + "/stop"), () => App.render());
    } }, I18n.t("broadcast.stop")));
  }
  if (actions.childNodes.length) card.append(actions);
  return card;
}

// Reads the page's data again every 2 s while `due` says so (one is sending or due), or when
// the next scheduled one falls due; stops once the page is gone.
function followBroadcasts(node, broadcasts, reload) {
  clearTimeout(broadcastTimer);
  let wait = null;
  if (broadcasts.some(broadcastDue)) wait = BROADCAST_REFRESH_MS;
  else {
    const next = broadcasts.filter((b) => b.status === "scheduled").map((b) => Date.parse(b.send_at) - Date.now());
    if (next.length) wait = Math.max(BROADCAST_REFRESH_MS, Math.min(...next) + 500);
  }
  // Timers longer than ~24 days fire at once; a page open that long is read again anyway.
  if (wait === null || wait > 86400000) return;
  broadcastTimer = setTimeout(async () => {
    if (!document.body.contains(node)) return;
    try {
      await reload();
    } catch (_) {
      // The next page load shows the error; keep trying meanwhile.
      followBroadcasts(node, broadcasts, reload);
    }
  }, wait);
}

async function programCampaigns() {
  try {
    return (await api("GET", programPath("/campaigns"))).campaigns || [];
  } catch (_) {
    return [];
  }
}

Views.broadcasts = async function (view) {
  clearTimeout(broadcastTimer);
  const [{ broadcasts }, campaigns] = await Promise.all([api("GET", broadcastsPath()), programCampaigns()]);
  view.append(el("h1", {}, I18n.t("nav.broadcasts")), el("p", { class: "muted" }, I18n.t("broadcast.intro")));
  if (can("manage")) view.append(broadcastForm(campaigns));
  const list = el("div", { id: "broadcast-list" });
  const draw = (items) => {
    list.replaceChildren(...(items.length ? items.map((b) => broadcastCard(b, campaigns, false))
      : [el("p", { class: "muted" }, I18n.t("broadcast.none"))]));
    followBroadcasts(list, items, async () => draw((await api("GET", broadcastsPath())).broadcasts));
  };
  draw(broadcasts);
  view.append(el("h2", {}, I18n.t("broadcast.list")), list);
};

function broadcastForm(campaigns) {
  let key = newKey();
  const local = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const error = (id) => el("span", { class: "field-error", id: id + "-error", role: "alert" });
  const field = (label, input, extra) => el("label", {}, I18n.t(label), input, extra || null, error(input.id));
  const text = el("textarea", { id: "broadcast-text", required: true, rows: 6, "aria-describedby": "broadcast-text-error" });
  const counter = el("span", { class: "broadcast-counter", id: "broadcast-count", "aria-live": "polite" });
  const image = el("input", { id: "broadcast-image", type: "url", size: 50, placeholder: "https://…",
    "aria-describedby": "broadcast-image-error" });
  const withButton = el("input", { type: "checkbox", id: "broadcast-button-on", checked: true });
  const label = el("input", { id: "broadcast-button-label", maxlength: BROADCAST_MAX_LABEL, size: 30,
    value: I18n.t("broadcast.button_default"), "aria-describedby": "broadcast-button-label-error" });
  const network = el("select", { id: "broadcast-network" },
    el("option", { value: "" }, I18n.t("members.any")),
    ["instagram", "vk", "telegram"].map((n) => el("option", { value: n }, networkName(n))));
  const number = (id, attrs) => el("input", Object.assign({ id, type: "number", step: 1, size: 8,
    "aria-describedby": id + "-error" }, attrs));
  const activeDays = number("broadcast-active-days", { min: 1, max: 3650 });
  const minBalance = number("broadcast-min-balance", { min: 0 });
  const minLifetime = number("broadcast-min-lifetime", { min: 0 });
  const campaign = el("select", { id: "broadcast-campaign" },
    el("option", { value: "" }, I18n.t("members.any")),
    campaigns.map((c) => el("option", { value: c.campaign_id }, c.name)));
  const now = el("input", { type: "radio", name: "broadcast-when", id: "broadcast-now", value: "now", checked: true });
  const later = el("input", { type: "radio", name: "broadcast-when", id: "broadcast-later", value: "later" });
  const sendAt = el("input", { id: "broadcast-send-at", type: "datetime-local", disabled: true,
    value: local(new Date(Date.now() + 3600000)), "aria-describedby": "broadcast-send-at-error" });
  const reach = el("p", { class: "broadcast-reach stale", id: "broadcast-reach", "aria-live": "polite" }, "…");
  const submit = el("button", { type: "submit", id: "broadcast-submit" }, I18n.t("broadcast.send"));

  const limit = () => (image.value.trim() ? BROADCAST_MAX_CAPTION : BROADCAST_MAX_TEXT);
  const count = () => {
    const n = text.value.trim().length;
    counter.textContent = I18n.t(image.value.trim() ? "broadcast.count_caption" : "broadcast.count",
      { n: fmtNum(n), limit: fmtNum(limit()) });
    counter.classList.toggle("over", n > limit());
  };
  const audience = () => {
    const a = {};
    const whole = (input) => (input.value.trim() === "" ? null : Number(input.value));
    if (network.value) a.network = network.value;
    if (whole(activeDays) !== null) a.active_days = whole(activeDays);
    if (whole(minBalance) !== null) a.min_balance = whole(minBalance);
    if (whole(minLifetime) !== null) a.min_lifetime = whole(minLifetime);
    if (campaign.value) a.campaign_id = campaign.value;
    return a;
  };
  // The reach, read again 400 ms after the filters stop changing; an older answer never
  // overwrites a newer one.
  let asked = 0;
  let reachTimer = null;
  const size = async () => (await api("POST", broadcastsPath("/audience"), audience())).recipients;
  const refreshReach = () => {
    clearTimeout(reachTimer);
    reach.classList.add("stale");
    reachTimer = setTimeout(async () => {
      const mine = ++asked;
      try {
        const n = await size();
        if (mine !== asked) return;
        reach.textContent = I18n.t("broadcast.reach", { n: fmtNum(n) });
        reach.dataset.recipients = String(n);
        reach.classList.remove("error");
      } catch (e) {
        if (mine !== asked) return;
        reach.textContent = errorText(e);
        delete reach.dataset.recipients;
        reach.classList.add("error");
      }
      reach.classList.remove("stale");
    }, 400);
  };
  const clearErrors = () => {
    for (const id of Object.values(BROADCAST_FIELDS)) {
      const input = document.getElementById(id);
      const box = document.getElementById(id + "-error");
      if (input) input.removeAttribute("aria-invalid");
      if (box) box.textContent = "";
    }
  };
  const fieldError = (name, why) => {
    const id = BROADCAST_FIELDS[name];
    const input = id && document.getElementById(id);
    const box = id && document.getElementById(id + "-error");
    if (!input || !box) return false;
    box.textContent = why;
    input.setAttribute("aria-invalid", "true");
    return true;
  };
  // The server names the field first ("text: …"); the panel says why in its own language.
  const explain = (name, why) => {
    const n = text.value.trim().length;
    const known = {
      text: n === 0 ? I18n.t("broadcast.error.text_empty") : I18n.t("broadcast.error.text_long", { limit: fmtNum(limit()), n: fmtNum(n) }),
      image_url: I18n.t("broadcast.error.image_url"),
      button_label: I18n.t("broadcast.error.button_label", { limit: BROADCAST_MAX_LABEL }),
      active_days: I18n.t("broadcast.error.active_days"),
      min_balance: I18n.t("broadcast.error.points"),
      min_lifetime: I18n.t("broadcast.error.points"),
      send_at: Date.parse(sendAt.value) < Date.now() ? I18n.t("broadcast.error.send_at_past") : I18n.t("broadcast.error.send_at_far"),
    };
    return known[name] || why;
  };
  const showServerError = (e) => {
    if (!(e instanceof ApiError) || e.code !== "invalid_broadcast") return;
    const colon = (e.message || "").indexOf(":");
    const name = colon > 0 ? e.message.slice(0, colon).trim() : "";
    const why = colon > 0 ? e.message.slice(colon + 1).trim() : e.message;
    // `min_balance` also stands for a negative lifetime: mark the one that is negative.
    const target = name === "min_balance" && Number(minBalance.value) >= 0 && Number(minLifetime.value) < 0 ? "min_lifetime" : name;
    fieldError(target, explain(target, why));
  };

  text.addEventListener("input", count);
  image.addEventListener("input", count);
  withButton.addEventListener("change", () => { label.disabled = !withButton.checked; });
  for (const input of [activeDays, minBalance, minLifetime]) input.addEventListener("input", refreshReach);
  for (const input of [network, campaign]) input.addEventListener("change", refreshReach);
  const when = () => {
    sendAt.disabled = !later.checked;
    submit.textContent = I18n.t(later.checked ? "broadcast.schedule" : "broadcast.send");
  };
  now.addEventListener("change", when);
  later.addEventListener("change", when);

  const form = el("form", { id: "broadcast-form", novalidate: true },
    el("label", { class: "wide broadcast-text-label" }, I18n.t("broadcast.text"), text, counter, error("broadcast-text")),
    el("div", { class: "broadcast-row" },
      field("broadcast.image_url", image, el("span", { class: "muted" }, I18n.t("broadcast.image_hint"))),
      el("div", { class: "broadcast-button-field" },
        el("label", { class: "check" }, withButton, I18n.t("broadcast.with_button")),
        field("broadcast.button_label", label))),
    el("fieldset", { class: "broadcast-audience-fields" }, el("legend", {}, I18n.t("broadcast.audience")),
      el("div", { class: "broadcast-row" },
        field("broadcast.network", network),
        field("broadcast.active_days", activeDays),
        field("broadcast.min_balance", minBalance),
        field("broadcast.min_lifetime", minLifetime),
        field("broadcast.campaign", campaign)),
      el("p", { class: "muted" }, I18n.t("broadcast.audience_hint")),
      reach),
    el("fieldset", { class: "broadcast-when" }, el("legend", {}, I18n.t("broadcast.when")),
      el("label", { class: "check" }, now, I18n.t("broadcast.now")),
      el("label", { class: "check" }, later, I18n.t("broadcast.later")),
      field("broadcast.send_at", sendAt, el("span", { class: "muted" }, I18n.t("broadcast.time_hint")))),
    el("p", {}, submit));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors();
    const n = text.value.trim().length;
    if (n === 0 || n > limit()) {
      fieldError("text", explain("text", ""));
      text.focus();
      return;
    }
    let at = null;
    if (later.checked) {
      const parsed = new Date(sendAt.value);
      if (isNaN(parsed.getTime())) {
        fieldError("send_at", I18n.t("broadcast.error.send_at_missing"));
        return;
      }
      at = parsed.toISOString();
    }
    const body = { text: text.value, audience: audience() };
    if (image.value.trim()) body.image_url = image.value.trim();
    if (withButton.checked) body.button_label = label.value;
    if (at) body.send_at = at;
    // The reach as of now, asked again so the question names the number the server counts.
    let recipients;
    submit.disabled = true;
    try {
      recipients = await size();
    } catch (err) {
      submit.disabled = false;
      showServerError(err);
      toast(errorText(err), true);
      return;
    }
    submit.disabled = false;
    reach.textContent = I18n.t("broadcast.reach", { n: fmtNum(recipients) });
    reach.dataset.recipients = String(recipients);
    const sure = await Manage.confirm(
      I18n.t(at ? "broadcast.confirm_schedule_title" : "broadcast.confirm_title", { n: fmtNum(recipients) }),
      at ? I18n.t("broadcast.confirm_schedule", { when: fmtTime(at), n: fmtNum(recipients) }) : I18n.t("broadcast.confirm_now"),
      I18n.t(at ? "broadcast.schedule" : "broadcast.send"));
    if (!sure) return;
    submitChange(submit, () => api("POST", broadcastsPath(), body, key).catch((err) => { showServerError(err); throw err; }),
      () => { key = newKey(); return App.render(); });
  });
  count();
  when();
  refreshReach();
  return el("div", { class: "card", id: "broadcast-compose" }, el("h2", {}, I18n.t("broadcast.new")), form);
}

// One broadcast: its progress and each recipient's outcome, filtered by outcome, 100 a page.
Views.broadcast = async function (view, broadcastId, params) {
  clearTimeout(broadcastTimer);
  const path = broadcastsPath("/" + encodeURIComponent(broadcastId));
  const status = params.get("status") || "";
  const after = params.get("after") || "";
  const hash = (next) => {
    const q = new URLSearchParams();
    if (next.status) q.set("status", next.status);
    if (next.after) q.set("after", next.after);
    const s = q.toString();
    return "#/broadcasts/" + encodeURIComponent(broadcastId) + (s ? "?" + s : "");
  };
  const query = () => {
    const q = new URLSearchParams();
    if (status) q.set("status", status);
    if (after) q.set("after", after);
    return "/recipients" + (q.toString() ? "?" + q.toString() : "");
  };
  const [b, page, campaigns] = await Promise.all([api("GET", path), api("GET", path + query()), programCampaigns()]);
  const head = el("div", { id: "broadcast-summary" });
  const rows = el("div", { id: "broadcast-recipients" });
  const pager = el("p", { class: "pager", id: "broadcast-pager" });
  const drawRows = (p) => {
    rows.replaceChildren(table([
      ["broadcast.member", (r) => el("a", { href: "#/members/" + encodeURIComponent(r.member_id), class: "member-link" },
        r.member_name || I18n.t("members.unnamed"))],
      ["common.status", (r) => el("span", { class: "badge outcome-" + r.status, "data-outcome": r.status },
        I18n.t("broadcast.outcome." + r.status, null, true) || r.status)],
      ["broadcast.error_column", (r) => r.error ? el("span", { class: "mono" }, r.error) : "—"],
      ["broadcast.updated", (r) => fmtTime(r.updated_at), "num"],
    ], p.recipients, "broadcast-recipient"));
    pager.replaceChildren();
    if (after) pager.append(el("a", { href: hash({ status }), id: "broadcast-first" }, "← " + I18n.t("members.first_page")), " ");
    if (p.next_after) pager.append(el("a", { href: hash({ status, after: p.next_after }), id: "broadcast-next" }, I18n.t("members.next_page") + " →"));
  };
  const draw = (x, p) => {
    head.replaceChildren(broadcastCard(x, campaigns, true));
    if (p) drawRows(p);
    // The first page follows the progress; a later one stays as it was read.
    followBroadcasts(head, [x], async () => {
      const [y, q] = await Promise.all([api("GET", path), after ? null : api("GET", path + query())]);
      draw(y, q);
    });
  };
  const filters = el("p", { class: "period-picker", id: "broadcast-filter" },
    ["", "pending", "sent", "blocked", "failed", "unknown"].map((s) =>
      el("a", { href: hash({ status: s }), class: s === status ? "active" : "", "data-status": s || "all" },
        s ? I18n.t("broadcast.outcome." + s) : I18n.t("broadcast.all"))));
  view.append(el("p", {}, el("a", { href: "#/broadcasts", id: "broadcast-back" }, "← " + I18n.t("nav.broadcasts"))),
    el("h1", {}, I18n.t("broadcast.title")), head,
    el("h2", {}, I18n.t("broadcast.recipients")), filters, rows, pager);
  draw(b, page);
};
