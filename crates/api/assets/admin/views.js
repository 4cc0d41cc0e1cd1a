// Read views: dashboard, member search and card, leaderboards, audit log, auditor tools.
"use strict";

const Views = {};

const DASHBOARD_PERIODS = [7, 30, 90];

Views.dashboard = async function (view, params) {
  const from = params && params.get("from"), to = params && params.get("to");
  const custom = !!(from && to);
  const days = !custom && DASHBOARD_PERIODS.includes(Number(params && params.get("days"))) ? Number(params.get("days")) : 30;
  const d = await api("GET", programPath("/dashboard?" + (custom
    ? new URLSearchParams({ from, to }) : new URLSearchParams({ days }))));
  const span = dayRange(d.from, d.to).length;
  const dateInput = (id, value) => el("input", { type: "date", id, value, required: true });
  const customForm = el("form", { class: "inline", id: "dashboard-custom" },
    el("label", {}, I18n.t("dash.from"), dateInput("dash-from", d.from)),
    el("label", {}, I18n.t("dash.to"), dateInput("dash-to", d.to)),
    el("button", { type: "submit", class: "secondary" }, I18n.t("dash.show")));
  customForm.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = "#/dashboard?" + new URLSearchParams({
      from: document.getElementById("dash-from").value, to: document.getElementById("dash-to").value });
  });
  const picker = el("div", { class: "period-picker", id: "dashboard-period" }, DASHBOARD_PERIODS.map((n) =>
    el("a", { href: "#/dashboard?days=" + n, class: !custom && n === days ? "active" : "", "data-days": n },
      I18n.t("dash.days", { n }))), customForm);
  const all = d.days.filter((r) => r.network === "all");
  const sum = (f) => all.reduce((a, r) => a + r[f], 0);
  const t = d.totals;
  const tile = (label, id, value, detail) => el("div", { class: "card tile" },
    el("div", { class: "muted" }, label), el("div", { class: "stat", id }, value),
    detail ? el("div", { class: "muted" }, detail) : null);
  view.append(
    el("h1", {}, I18n.t("nav.dashboard")),
    picker,
    el("div", { class: "row" },
      tile(I18n.t("dash.members"), "stat-members", fmtNum(d.members)),
      tile(I18n.t("dash.outstanding"), "stat-outstanding", fmtNum(d.points_outstanding)),
      tile(I18n.t("dash.awarded_in", { n: span }), "stat-awarded", fmtNum(sum("points_awarded"))),
      tile(I18n.t("dash.new_in", { n: span }), "stat-new", fmtNum(sum("new_members")))),
    el("div", { class: "row", id: "period-totals" },
      tile(I18n.t("dash.adjustments"), "stat-adjustments", fmtNum(t.adjustments),
        I18n.t("dash.points_net", { n: fmtSigned(t.adjusted_points) })),
      tile(I18n.t("dash.reversals"), "stat-reversals", fmtNum(t.manager_reversals),
        I18n.t("dash.platform_reversed", { n: fmtNum(sum("points_reversed")) })),
      tile(I18n.t("dash.codewords"), "stat-codewords", fmtNum(t.codewords),
        I18n.t("dash.points_paid", { n: fmtNum(t.codeword_points) })),
      tile(I18n.t("dash.coupons"), "stat-coupons", fmtNum(t.coupons_issued),
        I18n.t("dash.coupons_detail", { spent: fmtNum(t.points_spent), cancelled: fmtNum(t.coupons_cancelled) }))),
    el("p", { class: "muted" }, I18n.t("dash.zone", { zone: d.time_zone })),
    el("div", { class: "row" },
      statsChart(I18n.t("dash.points"), d, "points_awarded"),
      statsChart(I18n.t("dash.active"), d, "active_members")),
    el("div", { class: "row" },
      statsChart(I18n.t("dash.new"), d, "new_members"),
      statsChart(I18n.t("dash.reversed"), d, "points_reversed")));
  const week = await api("GET", programPath("/leaderboards?period=week&limit=5"));
  view.append(el("div", { class: "card", id: "top-week" }, el("h2", {}, I18n.t("dash.top_week")),
    boardTable(week.entries, "top-week-row")));
};

// The members list: filters and sort live in the hash (#/members?sort=balance&network=vk…), so
// a page can be bookmarked, reloaded and tested; pages follow each other by keyset cursor.
const MEMBER_FILTERS = ["q", "network", "linked", "blocked", "active_days", "min_balance", "max_balance", "tier"];
const MEMBER_SORTS = [
  ["balance", "members.balance"], ["earned", "members.earned"],
  ["last_activity", "members.last_activity"], ["joined", "members.joined"],
];

function membersHash(params) {
  const kept = new URLSearchParams();
  for (const [k, v] of params) if (v !== "" && v !== null) kept.set(k, v);
  const text = kept.toString();
  return "#/members" + (text ? "?" + text : "");
}

// A link to an account's page on its network, where the network has one for what we know.
function profileUrl(a) {
  const name = a.username ? encodeURIComponent(a.username) : null;
  switch (a.network) {
    case "telegram": return name ? "https://t.me/" + name : null;
    case "instagram": return name ? "https://www.instagram.com/" + name + "/" : null;
    case "vk": return /^[0-9]+$/.test(a.external_id || "") ? "https://vk.com/id" + a.external_id
      : (name ? "https://vk.com/" + name : null);
    default: return null;
  }
}

function memberName(m) {
  if (m.name) return m.name;
  const a = (m.accounts || []).find((x) => x.username) || (m.accounts || [])[0];
  return a ? accountLabel(a) : I18n.t("members.unnamed");
}

Views.members = async function (view, params) {
  params = new URLSearchParams(params || "");
  // The ladder names the tier filter's choices; a program without one has no such filter.
  const ladder = ((await api("GET", programPath("/rules"))).rules.tiers || {}).levels || [];
  const field = (name, input) => { input.name = name; input.value = params.get(name) || ""; return input; };
  const choice = (name, id, options) => field(name, el("select", { id },
    options.map(([value, key]) => el("option", { value }, I18n.t(key)))));
  const form = el("form", { class: "inline", id: "member-filters" },
    el("label", {}, I18n.t("members.search"),
      field("q", el("input", { id: "member-search", type: "search", placeholder: I18n.t("members.placeholder"), size: 28 }))),
    el("label", {}, I18n.t("members.network"), choice("network", "filter-network",
      [["", "members.any"], ["telegram", "network.telegram"], ["vk", "network.vk"], ["instagram", "network.instagram"]])),
    el("label", {}, I18n.t("members.linked"), choice("linked", "filter-linked",
      [["", "members.any"], ["true", "members.linked_yes"], ["false", "members.linked_no"]])),
    el("label", {}, I18n.t("members.status"), choice("blocked", "filter-blocked",
      [["", "members.any"], ["false", "members.active"], ["true", "members.blocked"]])),
    el("label", {}, I18n.t("members.active_days"),
      field("active_days", el("input", { id: "filter-active-days", type: "number", min: 1, max: 3660, size: 5 }))),
    el("label", {}, I18n.t("members.min_balance"),
      field("min_balance", el("input", { id: "filter-min-balance", type: "number", size: 7 }))),
    el("label", {}, I18n.t("members.max_balance"),
      field("max_balance", el("input", { id: "filter-max-balance", type: "number", size: 7 }))),
    ladder.length === 0 ? field("tier", el("input", { type: "hidden" })) :
      el("label", {}, I18n.t("card.tier"), field("tier", el("select", { id: "filter-tier" },
        el("option", { value: "" }, I18n.t("members.any")), el("option", { value: "0" }, I18n.t("card.no_tier")),
        ladder.map((l, i) => el("option", { value: String(i + 1) }, l.name))))),
    el("button", { type: "submit", id: "member-filter-apply" }, I18n.t("common.find")),
    el("button", { type: "button", class: "secondary", id: "member-filter-reset",
      onclick: () => { location.hash = "#/members"; } }, I18n.t("members.reset")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const name of MEMBER_FILTERS) next.set(name, form.elements[name].value.trim());
    for (const name of ["sort", "order"]) if (params.get(name)) next.set(name, params.get(name));
    location.hash = membersHash(next);
  });
  const results = el("div", { id: "member-results" });
  view.append(el("h1", {}, I18n.t("nav.members")), el("div", { class: "card" }, form), results);

  const query = new URLSearchParams();
  for (const name of [...MEMBER_FILTERS, "sort", "order", "after"]) {
    if (params.get(name)) query.set(name, params.get(name));
  }
  const reply = await api("GET", programPath("/members?" + query.toString()));
  const sort = params.get("sort") || "last_activity";
  const order = params.get("order") || "desc";
  const sortHead = ([key, label]) => {
    const next = new URLSearchParams(params);
    next.delete("after");
    next.set("sort", key);
    next.set("order", key === sort && order === "desc" ? "asc" : "desc");
    const mark = key === sort ? (order === "desc" ? " ▼" : " ▲") : "";
    return el("th", { class: "num", "aria-sort": key === sort ? (order === "desc" ? "descending" : "ascending") : null },
      el("a", { href: membersHash(next), class: "sort-link", "data-sort": key }, I18n.t(label) + mark));
  };
  const accounts = (m) => (m.accounts || []).map((a) =>
    el("div", { class: "net-" + a.network }, networkName(a.network) + " · " + accountLabel(a)));
  const rows = reply.members.map((m) => el("tr", { class: "member-row", "data-member": m.member_id },
    el("td", {}, el("a", { href: "#/members/" + m.member_id, class: "member-link" }, memberName(m)),
      m.tier ? [" ", el("span", { class: "badge tier member-tier" }, m.tier)] : null),
    el("td", {}, accounts(m)),
    el("td", { class: "num member-balance" }, fmtNum(m.balance)),
    el("td", { class: "num" }, fmtNum(m.earned)),
    el("td", { class: "num" }, fmtTime(m.last_activity_at)),
    el("td", { class: "num" }, fmtTime(m.joined_at)),
    el("td", {}, m.blocked ? el("span", { class: "badge blocked" }, I18n.t("members.blocked")) : "")));
  if (rows.length === 0) {
    rows.push(el("tr", {}, el("td", { colspan: 7, class: "muted" }, I18n.t("members.none"))));
  }
  results.append(el("div", { class: "table-scroll" }, el("table", { id: "member-list" },
    el("thead", {}, el("tr", {},
      el("th", {}, I18n.t("members.member")), el("th", {}, I18n.t("members.accounts")),
      MEMBER_SORTS.map(sortHead), el("th", {}, I18n.t("members.status")))),
    el("tbody", {}, rows))));

  const pager = el("p", { class: "pager" });
  if (params.get("after")) {
    const first = new URLSearchParams(params);
    first.delete("after");
    pager.append(el("a", { href: membersHash(first), id: "members-first" }, "← " + I18n.t("members.first_page")), " ");
  }
  if (reply.next) {
    const more = new URLSearchParams(params);
    more.set("after", reply.next);
    pager.append(el("a", { href: membersHash(more), id: "members-next" }, I18n.t("members.next_page") + " →"));
  }
  const csv = new URLSearchParams(query);
  csv.delete("after");
  csv.set("lang", I18n.lang === "ru" ? "ru" : "en");
  pager.append(" ", el("a", { href: programPath("/members.csv?" + csv.toString()), id: "members-csv" },
    I18n.t("members.csv")));
  results.append(pager);
};

// A platform's reversal reason is a code with a text in the panel's language; a manager's is
// their own words.
function reversalReason(reason) {
  return I18n.t("reversal." + reason, null, true) || reason;
}

function eventSummary(line) {
  const e = line.event || {};
  switch (line.event_type) {
    case "PointsAwarded": {
      const a = e.activity || {};
      return networkName(a.network) + " · " + (I18n.t("kind." + a.kind, null, true) || a.kind);
    }
    case "PointsReversed": return e.reason ? reversalReason(e.reason) : "";
    case "AwardHeld": case "HeldAwardApproved": {
      const a = e.activity || {};
      const what = networkName(a.network) + " · " + (I18n.t("kind." + a.kind, null, true) || a.kind);
      return e.hold ? what + " · " + (I18n.t("hold." + e.hold, null, true) || e.hold) : what;
    }
    case "HeldAwardRejected": return line.reason ? reversalReason(line.reason) : "";
    case "TierChanged": return I18n.t("card.tier_move", {
      from: e.from || I18n.t("card.no_tier"), to: e.to || I18n.t("card.no_tier"), points: fmtNum(e.qualifying_points) });
    case "PointsExpired": return I18n.t("card.expired_lot", { day: fmtDate(e.earned_at) });
    case "SeasonPrizeAwarded": return I18n.t("card.season_prize", { rank: e.rank });
    case "ExpiryWarned": return I18n.t("card.expiry_warned", { points: fmtNum(e.points), day: fmtDate(e.first_expires_at) });
    case "PointsAdjusted": return (e.compensates ? I18n.t("card.compensates") + " " : "") + (e.reason || "")
      + (e.note ? " · " + I18n.t("card.note_shown") + " " + e.note : "");
    case "RewardRedeemed": return I18n.t("card.coupon") + " " + (e.coupon_code || "");
    case "RaffleTicketBought": return I18n.t("raffle.history_ticket");
    case "RaffleTicketRefunded": return I18n.t("raffle.history_refund");
    case "AccountLinked": case "AccountUnlinked":
      // Events name accounts by reference; the platform id is in the accounts table above.
      return networkName(e.account && e.account.network);
    case "MemberErased": return I18n.t("erase." + e.reason, null, true) || e.reason || "";
    default: return line.reason || "";
  }
}

Views.member = async function (view, memberId) {
  const card = await api("GET", programPath("/members/" + encodeURIComponent(memberId)));
  const status = card.erased
    ? el("span", { class: "badge blocked", id: "member-status" }, I18n.t("members.erased"))
    : card.blocked
    ? el("span", { class: "badge blocked", id: "member-status" }, I18n.t("members.blocked"))
    : el("span", { class: "badge active", id: "member-status" }, I18n.t("members.active"));
  const accounts = table([
    ["members.network", (a) => el("span", { class: "net-" + a.network }, networkName(a.network))],
    ["members.account", (a) => {
      const url = profileUrl(a);
      const label = a.username ? "@" + a.username : "—";
      return url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "profile-link" }, label) : label;
    }],
    ["members.name", (a) => a.display_name || "—"],
    ["members.external", (a) => el("span", { class: "mono" }, a.external_id || "—")],
  ].concat(can("manage") && !card.erased ? [["common.actions", (a) => Manage.unlinkButton(card, a, () => App.render())]] : []),
  card.accounts, "account-row");
  const handles = card.accounts.filter((a) => a.username && "@" + a.username !== card.name)
    .map((a) => el("span", { class: "handle net-" + a.network }, "@" + a.username));
  view.append(
    el("p", {}, el("a", { href: "#/members" }, "← " + I18n.t("nav.members"))),
    el("h1", { id: "member-title" }, card.name || (card.erased ? I18n.t("members.erased_member") : I18n.t("members.unnamed")),
      " ", handles, " ", status),
    el("p", { class: "muted" }, I18n.t("card.title"), " ", el("span", { class: "mono", id: "member-id" }, card.member_id)),
    el("div", { class: "row" },
      el("div", { class: "card tile" }, el("div", { class: "muted" }, I18n.t("members.balance")),
        el("div", { class: "stat", id: "member-balance" }, fmtNum(card.balance))),
      el("div", { class: "card tile" }, el("div", { class: "muted" }, I18n.t("card.earned")),
        el("div", { class: "stat" }, fmtNum(card.earned))),
      el("div", { class: "card tile" }, el("div", { class: "muted" }, I18n.t("card.spent")),
        el("div", { class: "stat" }, fmtNum(card.spent))),
      card.expired > 0 || card.next_expiry ? el("div", { class: "card tile" }, el("div", { class: "muted" }, I18n.t("card.expired")),
        el("div", { class: "stat", id: "member-expired" }, fmtNum(card.expired)),
        card.next_expiry ? el("div", { class: "muted", id: "member-next-expiry" }, I18n.t("card.next_expiry", {
          points: fmtNum(card.next_expiry[0]), day: fmtDate(card.next_expiry[1]) })) : null) : null,
      card.tier ? el("div", { class: "card tile" }, el("div", { class: "muted" }, I18n.t("card.tier")),
        el("div", { class: "stat", id: "member-tier" }, card.tier.name),
        el("div", { class: "muted" }, I18n.t("card.tier_since", {
          x: fmtNum(card.tier.multiplier_percent / 100), since: fmtTime(card.tier.since) }))) : null),
    el("h2", {}, I18n.t("card.accounts")), accounts);
  if (card.erased) view.append(el("p", { class: "muted", id: "erased-note" }, I18n.t("card.erased_note")));
  if (can("manage") && !card.erased) {
    view.append(await Manage.samePerson(card, () => App.render()), Manage.memberForms(card, () => App.render()));
  }
  const reverse = (line) => line.reversible && can("manage")
    ? el("button", { type: "button", class: "secondary reverse-button",
        onclick: () => Manage.reverse(card.member_id, line, () => App.render()) }, I18n.t("card.reverse"))
    : "";
  view.append(
    el("h2", {}, I18n.t("card.history"), " ",
      el("span", { class: "muted" }, I18n.t("card.count", { n: card.history_total }))),
    table([
      ["card.when", (l) => fmtTime(l.recorded_at)],
      ["card.event", (l) => I18n.t("event." + l.event_type, null, true) || l.event_type],
      ["card.details", (l) => eventSummary(l)],
      ["card.delta", (l) => l.delta ? el("span", { class: l.delta > 0 ? "pos" : "neg" }, fmtSigned(l.delta)) : "", "num"],
      ["card.after", (l) => fmtNum(l.balance_after), "num"],
      ["card.actor", (l) => l.actor || "—"],
      ["card.event_id", (l) => el("span", { class: "mono" }, l.event_id)],
      ["common.actions", reverse],
    ], card.history, "history-row"));
  // Reversed entries are struck through, with who took them back and why.
  const rows = view.querySelectorAll("tr.history-row");
  card.history.forEach((line, i) => {
    const by = line.reversed_by;
    if (!by || !rows[i]) return;
    rows[i].classList.add("reversed");
    const platform = (by.actor || "").startsWith("platform:") ? by.actor.slice(9) : null;
    const who = platform ? networkName(platform) : (by.actor || "—");
    const details = rows[i].cells[2];
    details.replaceChildren(el("span", { class: "struck" }, ...details.childNodes));
    details.append(el("div", { class: "reversed-note" },
      I18n.t("card.reversed_note", { who, when: fmtTime(by.recorded_at) }) + (by.reason ? ": " + reversalReason(by.reason) : "")));
  });
  if (card.redemptions.length) {
    view.append(el("h2", {}, I18n.t("card.coupons")), table([
      ["card.when", (r) => fmtTime(r.redeemed_at)],
      ["card.coupon", (r) => el("span", { class: "mono" }, r.coupon_code)],
      ["rewards.cost", (r) => fmtNum(r.cost), "num"],
      ["common.status", (r) => r.cancelled_at ? I18n.t("rewards.cancelled") + ": " + (r.cancel_reason || "")
        : r.used_at ? I18n.t("rewards.used", { when: fmtTime(r.used_at) }) : ""],
      // A used coupon cannot be cancelled.
      ["common.actions", (r) => !r.cancelled_at && !r.used_at && can("manage")
        ? el("button", { type: "button", class: "secondary",
            onclick: () => Manage.cancelRedemption(r.redemption_id, () => App.render()) }, I18n.t("rewards.cancel"))
        : ""],
    ], card.redemptions));
  }
  // What is rarely done and hard to take back sits last, away from the everyday forms.
  if (can("manage") && !card.erased) view.append(Manage.memberStatus(card, () => App.render()));
  if (can("administer")) view.append(Manage.personalData(card, () => App.render()));
};

// Ranked members of a board, each linking to their card.
function boardTable(entries, rowClass) {
  return table([
    ["board.rank", (r) => String(r.rank), "num"],
    ["members.account", (r) => {
      const handle = r.label && r.label.username ? "@" + r.label.username : null;
      const name = r.name || handle || (r.label && r.label.display_name) || I18n.t("members.unnamed");
      return el("span", {}, el("a", { href: "#/members/" + r.member_id }, name),
        handle && handle !== name ? el("span", { class: "muted handle" }, " " + handle) : null);
    }],
    ["members.network", (r) => r.label ? networkName(r.label.network) : "—"],
    ["board.score", (r) => fmtNum(r.score), "num"],
  ], entries, rowClass);
}

// A stored period's name in the panel's language: "Week 47, 2026", "November 2026".
function periodName(key) {
  const week = /^w(\d{4})-(\d{2})$/.exec(key);
  if (week) return I18n.t("board.week_of", { week: Number(week[2]), year: week[1] });
  const month = /^m(\d{4})-(\d{2})$/.exec(key);
  if (!month) return key;
  const date = new Date(Date.UTC(Number(month[1]), Number(month[2]) - 1, 1));
  return date.toLocaleDateString(I18n.locale(), { month: "long", year: "numeric", timeZone: "UTC" });
}

Views.leaderboards = async function (view, params) {
  const period = params.get("period") || "all";
  const network = params.get("network") || "";
  const stored = await api("GET", programPath("/leaderboards/periods"));
  const go = () => {
    const p = new URLSearchParams({ period: document.getElementById("board-period").value,
      network: document.getElementById("board-network").value });
    location.hash = "#/leaderboards?" + p.toString();
  };
  const option = (v, text) => el("option", { value: v, selected: v === period }, text);
  const periodSelect = el("select", { id: "board-period", onchange: go },
    option("all", I18n.t("board.all")), option("week", I18n.t("board.week")), option("month", I18n.t("board.month")),
    stored.weeks.length ? el("optgroup", { label: I18n.t("board.past_weeks") }, stored.weeks.map((k) => option(k, periodName(k)))) : null,
    stored.months.length ? el("optgroup", { label: I18n.t("board.past_months") }, stored.months.map((k) => option(k, periodName(k)))) : null);
  const networkSelect = el("select", { id: "board-network", onchange: go },
    [["", "network.all"], ["instagram", "network.instagram"], ["vk", "network.vk"], ["telegram", "network.telegram"]]
      .map(([v, key]) => el("option", { value: v, selected: v === network }, I18n.t(key))));
  const q = new URLSearchParams({ period, network, limit: "100" });
  const csv = new URLSearchParams({ period, network, lang: I18n.lang === "ru" ? "ru" : "en" });
  view.append(el("h1", {}, I18n.t("nav.leaderboards")), el("div", { class: "card" },
    el("label", {}, I18n.t("board.period"), periodSelect),
    el("label", {}, I18n.t("members.network"), networkSelect),
    el("p", {}, el("a", { href: programPath("/leaderboards.csv?" + csv.toString()), id: "board-csv" }, I18n.t("board.csv")))));
  const board = await api("GET", programPath("/leaderboards?" + q.toString()));
  view.append(boardTable(board.entries, "board-row"));
};

Views.auditLog = async function (view, params) {
  const before = params.get("before");
  const page = await api("GET", programPath("/audit-log?limit=100" + (before ? "&before=" + encodeURIComponent(before) : "")));
  view.append(
    el("h1", {}, I18n.t("nav.audit")),
    el("p", {}, el("a", { href: programPath("/audit-log.csv?lang=" + (I18n.lang === "ru" ? "ru" : "en")), id: "audit-csv" },
      I18n.t("audit.csv"))),
    table([
      ["card.when", (e) => fmtTime(e.at)],
      ["audit.manager", (e) => e.manager],
      ["audit.action", (e) => I18n.t("event." + e.action, null, true) || e.action],
      ["audit.subject", (e) => {
        const m = /^member-(.+)$/.exec(e.subject);
        if (!m) return el("span", { class: "mono" }, e.subject);
        return e.subject_name ? el("a", { href: "#/members/" + m[1], class: "audit-member" }, e.subject_name)
          : el("a", { href: "#/members/" + m[1], class: "mono" }, e.subject);
      }],
      ["card.delta", (e) => e.points === null || e.points === undefined ? "" : fmtSigned(e.points), "num"],
      ["audit.reason", (e) => e.reason || ""],
    ], page.entries, "audit-row"));
  if (page.next_before) {
    view.append(el("p", {}, el("a", { href: "#/audit-log?before=" + page.next_before }, I18n.t("common.older"))));
  }
  // Admin accounts are the installation's, not a program's: admins and auditors see who
  // changed which.
  if (can("audit")) {
    const { changes } = await api("GET", "/api/v1/admin/users/changes");
    const detail = (c) => {
      const d = c.detail || {};
      const programs = (ids) => ids ? ids.map((id) => (Admin.programs.find((p) => p.program_id === id) || {}).name || id).join(", ")
        : I18n.t("users.allPrograms");
      switch (c.change) {
        case "created": return I18n.t("role." + d.role);
        case "role": return I18n.t("role." + d.from) + " → " + I18n.t("role." + d.role);
        case "programs": return programs(d.from) + " → " + programs(d.programs);
        case "telegram": return I18n.t(d.linked ? "account.linked" : "account.unlink");
        default: return "";
      }
    };
    view.append(el("h2", {}, I18n.t("audit.accounts")), table([
      ["card.when", (c) => fmtTime(c.at)],
      ["audit.manager", (c) => c.actor],
      ["audit.account", (c) => c.username],
      ["audit.action", (c) => I18n.t("account_change." + c.change, null, true) || c.change],
      ["card.details", detail],
    ], changes, "account-change-row"));
  }
};

Views.auditor = async function (view) {
  const field = (id, key, attrs) => el("label", {}, I18n.t(key), el("input", Object.assign({ id }, attrs || {})));
  const exportForm = el("form", { class: "inline", id: "export-form" },
    el("label", {}, I18n.t("auditor.format"), el("select", { id: "export-format" },
      el("option", { value: "jsonl" }, "JSON Lines"), el("option", { value: "csv" }, "CSV"))),
    field("export-stream", "auditor.stream", { placeholder: "member-…" }),
    field("export-type", "auditor.type", { placeholder: "PointsAdjusted" }),
    field("export-from", "auditor.from", { type: "datetime-local" }),
    field("export-to", "auditor.to", { type: "datetime-local" }),
    el("label", {}, el("span", {}, I18n.t("auditor.this_program")), el("input", { id: "export-program", type: "checkbox", checked: true })),
    el("button", { type: "submit" }, I18n.t("auditor.download")));
  exportForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const p = new URLSearchParams({ format: document.getElementById("export-format").value });
    const add = (k, id, time) => {
      const v = document.getElementById(id).value.trim();
      if (v) p.set(k, time ? new Date(v).toISOString() : v);
    };
    add("stream", "export-stream"); add("type", "export-type");
    add("from", "export-from", true); add("to", "export-to", true);
    if (document.getElementById("export-program").checked) p.set("program", Admin.program);
    window.location.assign("/api/v1/admin/audit/events?" + p.toString());
  });
  const asOfOut = el("div", { id: "as-of-result" });
  const asOfForm = el("form", { class: "inline", id: "as-of-form" },
    field("as-of-member", "auditor.member", { required: true, size: 38, placeholder: "00000000-0000-…" }),
    field("as-of-at", "auditor.at", { type: "datetime-local" }),
    el("button", { type: "submit" }, I18n.t("auditor.show")));
  asOfForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(asOfOut);
    const at = document.getElementById("as-of-at").value;
    const q = at ? "?at=" + encodeURIComponent(new Date(at).toISOString()) : "";
    try {
      const a = await api("GET", "/api/v1/admin/audit/members/" +
        encodeURIComponent(document.getElementById("as-of-member").value.trim()) + "/as-of" + q);
      asOfOut.append(
        el("p", {}, I18n.t("auditor.as_of_line", { at: fmtTime(a.at), balance: fmtNum(a.balance),
          earned: fmtNum(a.earned), spent: fmtNum(a.spent) })),
        table([
          ["card.when", (h) => fmtTime(h.recorded_at)],
          ["card.event", (h) => I18n.t("event." + h.event_type, null, true) || h.event_type],
          ["card.delta", (h) => h.delta ? fmtSigned(h.delta) : "", "num"],
          ["card.after", (h) => fmtNum(h.balance_after), "num"],
        ], a.history));
    } catch (err) { asOfOut.append(el("p", { class: "error" }, errorText(err))); }
  });
  // A finding in the panel's language: the model's name and the kind of difference.
  const modelName = (m) => I18n.t("auditor.models." + m, null, true) || m;
  const kindName = (k) => I18n.t("auditor.kinds." + k, null, true) || k;
  const verifyOut = el("div", { id: "verify-result" });
  const verifyButton = el("button", { type: "button", id: "verify-run" }, I18n.t("auditor.verify_run"));
  verifyButton.addEventListener("click", async () => {
    clear(verifyOut);
    verifyButton.disabled = true;
    verifyOut.append(el("p", { class: "muted" }, I18n.t("auditor.running")));
    try {
      const r = await api("POST", "/api/v1/admin/audit/verify");
      clear(verifyOut).append(
        el("p", { class: r.differences_total === 0 ? "ok" : "error", id: "verify-verdict" },
          r.differences_total === 0 ? I18n.t("auditor.clean") : I18n.t("auditor.dirty", { n: r.differences_total })),
        el("p", { class: "muted" }, I18n.t("auditor.verify_stats", { events: fmtNum(r.events),
          streams: fmtNum(r.streams), secs: r.secs.toFixed(2) })),
        table([
          ["auditor.projection", (p) => p.name],
          ["auditor.position", (p) => fmtNum(p.position), "num"],
          ["auditor.behind", (p) => fmtNum(p.behind), "num"],
        ], r.projections),
        (r.groups || []).length ? table([
          ["auditor.model", (g) => modelName(g.model)], ["auditor.kind", (g) => kindName(g.kind)],
          ["auditor.count", (g) => fmtNum(g.count), "num"],
        ], r.groups) : "",
        r.differences.length ? table([
          ["auditor.model", (x) => modelName(x.model)], ["auditor.kind", (x) => kindName(x.kind)],
          ["auditor.key", (x) => x.key],
          ["auditor.expected", (x) => x.kind === "unexpected" ? I18n.t("auditor.no_row") : x.expected],
          ["auditor.actual", (x) => x.kind === "missing" ? I18n.t("auditor.no_row") : x.actual],
        ], r.differences.slice(0, 200)) : "");
    } catch (err) { clear(verifyOut).append(el("p", { class: "error" }, errorText(err))); }
    verifyButton.disabled = false;
  });
  view.append(el("h1", {}, I18n.t("nav.auditor")),
    el("div", { class: "card" }, el("h2", {}, I18n.t("auditor.export")), exportForm),
    el("div", { class: "card" }, el("h2", {}, I18n.t("auditor.as_of")), asOfForm, asOfOut),
    el("div", { class: "card" }, el("h2", {}, I18n.t("auditor.verify")),
      el("p", { class: "muted" }, I18n.t("auditor.verify_hint")), verifyButton, verifyOut));
};
