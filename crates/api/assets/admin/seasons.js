// Leaderboard seasons: a board that runs from a start to an end, counts only the chosen
// activities (manual adjustments only when asked), freezes its final standings when it ends
// and pays its prize bands as credits. Times are shown and entered in the program's zone, as
// the standings and the leaderboards count days there.
// Text from the server is only set with textContent (through el()).
"use strict";

const SEASON_PHASES = ["upcoming", "running", "settling", "final", "cancelled"];
// Phases in which a season can still be called off.
const SEASON_OPEN = ["upcoming", "running", "settling"];
// The domain's limits (domain::season), checked here so the manager learns them beside the field.
const SEASON_MAX_NAME = 100;
const SEASON_MAX_DAYS = 366;
const SEASON_MAX_SETTLE = 1440;
const SEASON_MAX_RANK = 100;
const SEASON_MAX_PRIZE = 1000000;

function seasonZone() {
  const program = Admin.programs.find((p) => p.program_id === Admin.program);
  return (program && program.time_zone) || "UTC";
}

// How far the zone's wall clock is ahead of UTC at the instant `ms` (milliseconds).
function zoneOffset(ms, zone) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  for (const p of format.formatToParts(new Date(ms))) parts[p.type] = p.value;
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

// The instant as a datetime-local value ("2026-12-01T00:00") on the zone's wall clock.
function zonedInput(ms, zone) {
  return new Date(ms + zoneOffset(ms, zone)).toISOString().slice(0, 16);
}

// A datetime-local value read on the zone's wall clock, as an ISO instant; null if unreadable.
function zonedInstant(value, zone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  // Asked twice: the offset at the first guess may differ across a daylight-saving change.
  let at = wall - zoneOffset(wall, zone);
  at = wall - zoneOffset(at, zone);
  return new Date(at);
}

function fmtZoned(iso) {
  if (!iso) return "—";
  try {
    return new Date(iso).toLocaleString(I18n.locale(), { dateStyle: "medium", timeStyle: "short", timeZone: seasonZone() });
  } catch (_) {
    // A zone this browser does not know: its own clock, as the other pages show.
    return fmtTime(iso);
  }
}

function seasonBadge(phase) {
  const known = SEASON_PHASES.includes(phase);
  return el("span", { class: "badge season-" + (known ? phase : "unknown"), "data-phase": phase },
    known ? I18n.t("season.phase." + phase) : phase);
}

function seasonPrizesText(s) {
  if (!s.prizes.length) return I18n.t("season.no_prizes");
  return s.prizes.map((p) => I18n.t(p.from_rank === p.to_rank ? "season.prize_one" : "season.prize_band",
    { from: p.from_rank, to: p.to_rank, points: fmtNum(p.points) })).join(" · ");
}

function seasonCountsText(s) {
  const kinds = s.activities.length === RAFFLE_KINDS.length ? I18n.t("season.every_activity")
    : s.activities.map((k) => I18n.t("kind." + k, null, true) || k).join(", ") || "—";
  return I18n.t("season.counts_line", { kinds }) + " · "
    + I18n.t(s.adjustments ? "season.adjustments_count" : "season.adjustments_not");
}

// The list and the boards are read models: after a change, waits (a few seconds at most)
// until the list shows it, then draws the page again.
async function seasonSettled(seasonId, shows) {
  for (let i = 0; seasonId && i < 20; i += 1) {
    try {
      const { seasons } = await api("GET", programPath("/seasons"));
      const season = seasons.find((s) => s.season_id === seasonId);
      if (season && shows(season)) break;
    } catch (_) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return App.render();
}

function seasonCard(s, onBoard) {
  const path = programPath("/seasons/" + encodeURIComponent(s.season_id));
  const card = el("div", { class: "card season", "data-season-id": s.season_id, "data-phase": s.phase },
    el("h2", {}, el("span", { class: "season-name" }, s.name), " ", seasonBadge(s.phase)),
    el("p", { class: "season-dates" }, I18n.t("season.dates", { starts: fmtZoned(s.starts_at), ends: fmtZoned(s.ends_at),
      zone: seasonZone() }), " ", el("span", { class: "muted" }, s.settle_minutes
      ? I18n.t("season.settle_line", { minutes: fmtNum(s.settle_minutes) }) : I18n.t("season.settle_none"))),
    el("p", { class: "season-counts" }, seasonCountsText(s)),
    el("p", { class: "season-prizes" }, el("strong", {}, I18n.t("season.prizes") + ": "), seasonPrizesText(s)));
  const numbers = [];
  if (s.participants !== null && s.participants !== undefined) {
    numbers.push(I18n.t("season.participants", { n: fmtNum(s.participants) }));
  }
  if (s.phase === "final") {
    numbers.push(I18n.t("season.paid", { paid: fmtNum(s.prizes_paid || 0), withheld: fmtNum(s.prizes_withheld || 0) }));
    if (!s.settled) numbers.push(I18n.t("season.paying"));
  }
  if (numbers.length) card.append(el("p", { class: "season-numbers" }, numbers.join(" · ")));
  if (s.phase === "cancelled") {
    card.append(el("p", { class: "season-cancelled" }, I18n.t("season.cancelled_note", { reason: s.cancel_reason || "—" })));
  }
  card.append(el("p", { class: "season-by muted" }, I18n.t("season.scheduled_by",
    { by: String(s.scheduled_by).replace(/^manager:/, ""), at: fmtZoned(s.scheduled_at) })));
  const actions = el("p", { class: "season-actions" });
  if (!onBoard) {
    actions.append(el("a", { class: "season-open", href: "#/seasons/" + encodeURIComponent(s.season_id) },
      I18n.t(s.phase === "final" ? "season.open_final" : "season.open_board")), " ");
  }
  if (can("manage") && SEASON_OPEN.includes(s.phase)) {
    actions.append(el("button", { type: "button", class: "danger season-cancel-button", "data-action": "cancel", onclick: () =>
      Manage.askReason(I18n.t("season.cancel_title", { name: s.name }),
        (reason, key) => api("POST", path + "/cancel", { reason }, key),
        () => seasonSettled(s.season_id, (x) => x.phase === "cancelled"),
        false, I18n.t("season.cancel_consequence")) },
    I18n.t("season.cancel")));
  }
  if (actions.childNodes.length) card.append(actions);
  return card;
}

function seasonForm() {
  let key = newKey();
  const zone = seasonZone();
  const error = (id) => el("span", { class: "field-error", id: id + "-error", role: "alert" });
  const field = (label, input, extra) => el("label", {}, I18n.t(label), input, extra || null, error(input.id));
  const name = el("input", { id: "season-name", required: true, maxlength: SEASON_MAX_NAME, size: 30,
    "aria-describedby": "season-name-error" });
  // The next full hour, and four weeks after it, on the program's clock.
  const hour = Math.ceil(Date.now() / 3600000) * 3600000;
  const starts = el("input", { id: "season-starts", type: "datetime-local", required: true,
    value: zonedInput(hour, zone), "aria-describedby": "season-starts-error" });
  const ends = el("input", { id: "season-ends", type: "datetime-local", required: true,
    value: zonedInput(hour + 28 * 86400000, zone), "aria-describedby": "season-ends-error" });
  const settle = el("input", { id: "season-settle", type: "number", min: 0, max: SEASON_MAX_SETTLE, step: 1, size: 6,
    value: "60", "aria-describedby": "season-settle-error" });
  const kinds = el("fieldset", { class: "season-kinds", id: "season-kinds" }, el("legend", {}, I18n.t("season.counts")),
    RAFFLE_KINDS.map((k) => el("label", { class: "check" },
      el("input", { type: "checkbox", id: "season-kind-" + k, value: k, checked: true }), I18n.t("kind." + k))),
    el("label", { class: "check season-adjustments" },
      el("input", { type: "checkbox", id: "season-adjustments" }), I18n.t("season.adjustments")),
    el("p", { class: "muted season-adjustments-hint" }, I18n.t("season.adjustments_hint")),
    error("season-kinds"));
  const prizes = el("div", { id: "season-prizes" });
  const number = (id, attrs) => el("input", Object.assign({ id, type: "number", step: 1, size: 6,
    "aria-describedby": id + "-error" }, attrs));
  let rowIds = 0;
  const addPrize = () => {
    const rows = prizes.querySelectorAll(".season-band");
    const last = rows.length ? Number(rows[rows.length - 1].querySelector(".prize-to").value) || 0 : 0;
    const id = "season-prize-" + rowIds++;
    const from = number(id + "-from", { class: "prize-from", min: 1, max: SEASON_MAX_RANK, value: String(last + 1) });
    const to = number(id + "-to", { class: "prize-to", min: 1, max: SEASON_MAX_RANK, value: String(last + 1) });
    const points = number(id + "-points", { class: "prize-points", min: 1, max: SEASON_MAX_PRIZE, required: true });
    const row = el("div", { class: "season-band", id },
      field("season.prize_from", from), field("season.prize_to", to), field("season.prize_points", points),
      el("button", { type: "button", class: "secondary small season-prize-remove", onclick: () => row.remove() },
        I18n.t("season.prize_remove")),
      error(id));
    prizes.append(row);
  };
  const add = el("button", { type: "button", class: "secondary small", id: "season-prize-add", onclick: addPrize },
    I18n.t("season.prize_add"));
  const formError = el("p", { class: "error", id: "season-form-error", role: "alert", hidden: true });
  const submit = el("button", { type: "submit", id: "season-submit" }, I18n.t("season.create"));

  const clearErrors = () => {
    for (const box of form.querySelectorAll(".field-error")) box.textContent = "";
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    formError.hidden = true;
    formError.textContent = "";
  };
  const mark = (id, why, input) => {
    document.getElementById(id + "-error").textContent = why;
    if (input) input.setAttribute("aria-invalid", "true");
  };
  // Every field checked before anything is sent; the server checks again.
  const check = () => {
    let ok = true;
    const bad = (id, key, vars, input) => { ok = false; mark(id, I18n.t(key, vars), input); };
    const trimmed = name.value.trim();
    if (!trimmed) bad("season-name", "season.error.name", null, name);
    else if ([...trimmed].length > SEASON_MAX_NAME) bad("season-name", "season.error.name_long", { n: SEASON_MAX_NAME }, name);
    const from = zonedInstant(starts.value, zone);
    const until = zonedInstant(ends.value, zone);
    if (!from) bad("season-starts", "season.error.when", null, starts);
    if (!until) bad("season-ends", "season.error.when", null, ends);
    else if (from && until <= from) bad("season-ends", "season.error.end_before_start", null, ends);
    else if (until.getTime() <= Date.now()) bad("season-ends", "season.error.end_past", null, ends);
    else if (from && until - from > SEASON_MAX_DAYS * 86400000) {
      bad("season-ends", "season.error.too_long", { days: SEASON_MAX_DAYS }, ends);
    }
    const minutes = Number(settle.value);
    if (settle.value.trim() === "" || !Number.isInteger(minutes) || minutes < 0 || minutes > SEASON_MAX_SETTLE) {
      bad("season-settle", "season.error.settle", { max: SEASON_MAX_SETTLE }, settle);
    }
    const chosen = RAFFLE_KINDS.filter((k) => document.getElementById("season-kind-" + k).checked);
    const adjustments = document.getElementById("season-adjustments").checked;
    if (!chosen.length && !adjustments) bad("season-kinds", "season.error.nothing_counts");
    const bands = [];
    for (const row of prizes.querySelectorAll(".season-band")) {
      const [f, t, p] = ["from", "to", "points"].map((part) => row.querySelector(".prize-" + part));
      const band = { from_rank: Number(f.value), to_rank: Number(t.value), points: Number(p.value) };
      const whole = (input) => input.value.trim() !== "" && Number.isInteger(Number(input.value));
      if (!whole(f) || band.from_rank < 1 || band.from_rank > SEASON_MAX_RANK) {
        bad(f.id, "season.error.rank", { max: SEASON_MAX_RANK }, f);
      } else if (!whole(t) || band.to_rank < band.from_rank || band.to_rank > SEASON_MAX_RANK) {
        bad(t.id, "season.error.rank_to", { max: SEASON_MAX_RANK }, t);
      } else if (!whole(p) || band.points < 1 || band.points > SEASON_MAX_PRIZE) {
        bad(p.id, "season.error.points", { max: fmtNum(SEASON_MAX_PRIZE) }, p);
      } else {
        const other = bands.find((b) => band.from_rank <= b.to_rank && b.from_rank <= band.to_rank);
        if (other) bad(row.id, "season.error.overlap", { from: band.from_rank, to: band.to_rank });
      }
      bands.push(band);
    }
    if (!ok) return null;
    return { name: trimmed, starts_at: from.toISOString(), ends_at: until.toISOString(), settle_minutes: minutes,
      activities: chosen, adjustments, prizes: bands };
  };

  const form = el("form", { class: "inline", id: "season-form", novalidate: true },
    el("div", { class: "season-fields" },
      field("season.name", name),
      field("season.starts", starts),
      field("season.ends", ends),
      field("season.settle", settle, el("span", { class: "muted" }, I18n.t("season.settle_hint")))),
    kinds,
    el("fieldset", { class: "season-prize-fields" }, el("legend", {}, I18n.t("season.prizes")),
      el("p", { class: "muted" }, I18n.t("season.prizes_hint")), prizes, add),
    formError,
    el("p", {}, submit));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearErrors();
    const body = check();
    if (!body) {
      const first = form.querySelector("[aria-invalid=true]");
      if (first) first.focus();
      return;
    }
    // The server's refusal (its reason after the translated sentence) stays at the form.
    const showServerError = (err) => {
      formError.textContent = errorText(err);
      formError.hidden = false;
    };
    submitChange(submit, () => api("POST", programPath("/seasons"), body, key).catch((err) => { showServerError(err); throw err; }),
      (reply) => { key = newKey(); return seasonSettled(reply && reply.created_id, () => true); });
  });
  return el("div", { class: "card", id: "season-compose" }, el("h2", {}, I18n.t("season.new")),
    el("p", { class: "muted" }, I18n.t("season.form_hint", { zone })), form);
}

Views.seasons = async function (view) {
  const { seasons } = await api("GET", programPath("/seasons"));
  view.append(el("h1", {}, I18n.t("nav.seasons")), el("p", { class: "muted" }, I18n.t("season.intro")));
  if (can("manage")) view.append(seasonForm());
  view.append(el("div", { id: "season-list" }, seasons.length
    ? seasons.map((s) => seasonCard(s, false)) : el("p", { class: "muted" }, I18n.t("common.empty"))));
};

// One season's board: the frozen final standings once it ended, the live board before.
Views.season = async function (view, seasonId) {
  const board = await api("GET", programPath("/seasons/" + encodeURIComponent(seasonId) + "?limit=100"));
  const s = board.season;
  view.append(el("p", {}, el("a", { href: "#/seasons", id: "season-back" }, "← " + I18n.t("nav.seasons"))),
    el("h1", {}, I18n.t("season.board_title", { name: s.name })), seasonCard(s, true));
  const marker = board.frozen
    ? el("p", { class: "season-frozen", id: "season-final" }, el("span", { class: "badge season-final" }, I18n.t("season.final")),
      " ", I18n.t("season.final_hint"))
    : el("p", { class: "muted", id: "season-live" }, I18n.t(s.phase === "cancelled" ? "season.cancelled_board" : "season.live_hint"));
  view.append(el("h2", {}, I18n.t("season.standings")), marker, el("div", { id: "season-board", "data-frozen": String(board.frozen) },
    table([
      ["season.rank", (r) => el("span", { class: "season-rank" }, String(r.rank)), "num"],
      ["members.name", (r) => el("a", { href: "#/members/" + encodeURIComponent(r.member_id), class: "member-link season-member" },
        r.name || I18n.t("members.unnamed"))],
      ["season.score", (r) => el("span", { class: "season-score" }, fmtNum(r.score)), "num"],
      ["season.prize", (r) => el("span", { class: "season-prize-won" }, r.prize ? fmtNum(r.prize) : "—"), "num"],
    ], board.entries, "season-row")));
};
