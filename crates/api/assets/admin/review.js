// The review queue: awards the rules held (too many awards too fast, a member's first hours, a
// big codeword bonus) wait here until a manager approves (the member is paid) or rejects them
// (with a reason, kept in the ledger). Oldest first: the queue is worked from its head.
// Text from the server (names, reasons) is only set with textContent (el()).
"use strict";

const REVIEW_STATUSES = ["pending", "approved", "rejected", "all"];

function reviewPath(rest) {
  return programPath("/held-awards" + (rest || ""));
}

function heldDecision(h) {
  if (h.status === "pending") return "";
  const who = h.decided_by ? String(h.decided_by).replace(/^manager:/, "")
    : I18n.t("review.by_platform");
  const why = h.decision_reason ? (I18n.t("reversal." + h.decision_reason, null, true) || h.decision_reason) : "";
  return [who, fmtTime(h.decided_at), why].filter(Boolean).join(" · ");
}

function heldActions(h, reload) {
  const cell = el("td", { class: "review-actions" });
  if (h.status !== "pending" || !can("manage")) return cell;
  const key = newKey();
  const approve = el("button", { type: "button", class: "small review-approve" }, I18n.t("review.approve"));
  approve.addEventListener("click", () => submitChange(approve,
    () => api("POST", reviewPath("/" + encodeURIComponent(h.entry_id) + "/approve"), null, key), reload));
  const reject = el("button", { type: "button", class: "small danger review-reject", onclick: () => {
    Manage.askReason(I18n.t("review.reject_title", { points: fmtNum(h.points) }),
      (reason, k) => api("POST", reviewPath("/" + encodeURIComponent(h.entry_id) + "/reject"), { reason }, k),
      reload, false, I18n.t("review.reject_consequence"));
  } }, I18n.t("review.reject"));
  cell.append(approve, " ", reject);
  return cell;
}

// Approve or reject the ticked awards with one request; the answer says how many were decided
// and which were refused, and why. Returns the buttons' bar and what recounts the ticks.
function bulkDecisions(reload) {
  const picked = () => Array.from(document.querySelectorAll(".review-pick:checked")).map((box) => box.value);
  const approve = el("button", { type: "button", id: "review-approve-picked", disabled: true }, I18n.t("review.approve_picked", { n: 0 }));
  const reject = el("button", { type: "button", class: "danger", id: "review-reject-picked", disabled: true }, I18n.t("review.reject_picked", { n: 0 }));
  const bar = el("div", { class: "inline", id: "review-bulk" }, approve, " ", reject);
  const recount = () => {
    const n = picked().length;
    approve.textContent = I18n.t("review.approve_picked", { n: fmtNum(n) });
    reject.textContent = I18n.t("review.reject_picked", { n: fmtNum(n) });
    approve.disabled = reject.disabled = n === 0;
  };
  const said = (reply) => {
    const refused = reply.refused.map((r) => (I18n.t("error." + r.code, null, true) || r.message)).join(" ");
    toast(I18n.t("review.bulk_done", { n: fmtNum(reply.recorded), unchanged: fmtNum(reply.unchanged) })
      + (refused ? " " + refused : ""), reply.refused.length > 0);
  };
  const key = newKey();
  approve.addEventListener("click", async () => {
    const entries = picked();
    const sure = await Manage.confirm(I18n.t("review.approve_picked_title", { n: fmtNum(entries.length) }),
      I18n.t("review.approve_picked_consequence"), I18n.t("review.approve"));
    if (!sure) return;
    approve.disabled = true;
    try {
      said(await api("POST", reviewPath("/decisions"), { entries, decision: "approve" }, key));
      await reload();
    } catch (e) {
      toast(errorText(e), true);
      approve.disabled = false;
    }
  });
  reject.addEventListener("click", () => {
    const entries = picked();
    Manage.askReason(I18n.t("review.reject_picked_title", { n: fmtNum(entries.length) }),
      (reason, k) => api("POST", reviewPath("/decisions"), { entries, decision: "reject", reason }, k),
      async (reply) => { said(reply); await reload(); }, false, I18n.t("review.reject_consequence"));
  });
  return { bar, recount };
}

Views.review = async function (view, params) {
  const status = REVIEW_STATUSES.includes(params.get("status")) ? params.get("status") : "pending";
  const after = params.get("after");
  const page = await api("GET", reviewPath("?limit=100&status=" + status
    + (after ? "&after=" + encodeURIComponent(after) : "")));
  const reload = () => App.render();
  const tabs = el("p", { class: "tabs", id: "review-tabs" }, REVIEW_STATUSES.map((s) =>
    el("a", { href: "#/review?status=" + s, class: s === status ? "active" : "", "data-status": s },
      I18n.t("review.status." + s))));
  view.append(el("h1", {}, I18n.t("nav.review")),
    el("p", { class: "muted" }, I18n.t("review.hint"), " ", el("a", { href: "#/rules" }, I18n.t("review.rules_link"))),
    tabs);
  if (page.items.length === 0) {
    view.append(el("p", { class: "muted", id: "review-empty" }, I18n.t("review.empty." + status)));
    return;
  }
  const choosing = status === "pending" && can("manage");
  const pick = (h) => el("td", {}, choosing
    ? el("input", { type: "checkbox", class: "review-pick", value: h.entry_id, "aria-label": I18n.t("review.pick") }) : null);
  const rows = page.items.map((h) => el("tr", { class: "review-row", "data-entry": h.entry_id, "data-status": h.status },
    pick(h),
    el("td", {}, fmtTime(h.held_at)),
    el("td", {}, el("a", { href: "#/members/" + encodeURIComponent(h.member_id), class: h.member_name ? "" : "mono" },
      h.member_name || h.member_id)),
    el("td", {}, networkName(h.network) + " · " + (I18n.t("kind." + h.kind, null, true) || h.kind),
      el("br"), el("span", { class: "muted" }, I18n.t("review.happened", { when: fmtTime(h.occurred_at) }))),
    el("td", { class: "num" }, fmtNum(h.points)),
    el("td", { class: "review-hold" }, I18n.t("hold." + h.hold, null, true) || h.hold),
    el("td", { class: "review-status" }, el("span", { class: "badge" }, I18n.t("review.status." + h.status)),
      el("br"), el("span", { class: "muted" }, heldDecision(h))),
    heldActions(h, reload)));
  const all = choosing ? el("input", { type: "checkbox", id: "review-pick-all", "aria-label": I18n.t("review.pick_all") }) : null;
  const table = el("table", { id: "review-table" },
    el("thead", {}, el("tr", {}, el("th", {}, all), ["review.col_held", "review.col_member", "review.col_activity",
      "review.col_points", "review.col_hold", "review.col_status", "review.col_actions"]
      .map((k) => el("th", {}, I18n.t(k))))),
    el("tbody", {}, rows));
  if (choosing) {
    const { bar, recount } = bulkDecisions(reload);
    all.addEventListener("change", () => {
      table.querySelectorAll(".review-pick").forEach((box) => { box.checked = all.checked; });
    });
    table.addEventListener("change", recount);
    view.append(bar);
  }
  view.append(el("div", { class: "table-scroll" }, table));
  if (page.next_after) {
    view.append(el("p", {}, el("a", { href: "#/review?status=" + status + "&after=" + page.next_after, id: "review-next" },
      I18n.t("review.next"))));
  }
};
