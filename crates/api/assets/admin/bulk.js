// Bulk adjustments: a manager checks a CSV of point changes (every bad row named by its line),
// applies it (progress followed every second) and can reverse an applied file as a whole.
// Text from the server (file names, reasons, errors) is only set with textContent (el()).
"use strict";

const BULK_REFRESH_MS = 1000;
let bulkTimer = null;

function bulkPath(rest) {
  return programPath("/bulk-adjustments" + (rest || ""));
}

function bulkBusy(b) {
  return b.status === "applying" || b.status === "reversing";
}

function bulkStatus(b) {
  const done = b.status === "reversing" || b.status === "reversed" ? b.reversed : b.applied;
  const text = I18n.t("bulk.status." + b.status, null, true) || b.status;
  const cell = el("span", { class: "bulk-status", "data-status": b.status }, el("span", { class: "badge" }, text));
  if (bulkBusy(b)) {
    const bar = el("progress", { max: b.rows_total, value: done, class: "bulk-progress" });
    cell.append(" ", bar, " ", I18n.t("bulk.progress", { done: fmtNum(done), total: fmtNum(b.rows_total) }));
  }
  return cell;
}

function bulkRow(b, reload) {
  const refused = b.refused || [];
  const actions = el("td", {});
  if (can("manage") && b.status === "applied") {
    actions.append(el("button", { type: "button", class: "danger small bulk-reverse", onclick: () => {
      Manage.askReason(I18n.t("bulk.reverse_title", { name: b.file_name || b.file_sha256.slice(0, 12) }),
        (reason, key) => api("POST", bulkPath("/" + encodeURIComponent(b.id) + "/reverse"), { reason }, key),
        reload, false, I18n.t("bulk.reverse_consequence", { n: fmtNum(b.applied) }));
    } }, I18n.t("bulk.reverse")));
  }
  return el("tr", { "data-bulk-id": b.id },
    el("td", {}, fmtTime(b.created_at)),
    el("td", {}, b.file_name || "—", el("br"), el("span", { class: "muted mono" }, b.file_sha256.slice(0, 12))),
    el("td", {}, String(b.created_by || "").replace(/^manager:/, "")),
    el("td", { class: "num" }, fmtNum(b.rows_total)),
    el("td", { class: "num" }, "+" + fmtNum(b.points_added), " / −" + fmtNum(b.points_removed)),
    el("td", {}, bulkStatus(b),
      refused.length ? el("details", { class: "bulk-refused" },
        el("summary", {}, I18n.t("bulk.refused", { n: fmtNum(refused.length) })),
        el("ul", {}, refused.map((r) => el("li", {}, I18n.t("bulk.line", { line: r.line }) + ": " + r.why)))) : null,
      b.reverse_reason ? el("p", { class: "muted" }, I18n.t("bulk.reversed_because", { reason: b.reverse_reason })) : null),
    actions);
}

// The check's answer: what the file would do, and every bad row by its line.
function dryRunCard(dry, file, reload) {
  const box = el("div", { class: "card", id: "bulk-dry-run" });
  box.append(el("p", { id: "bulk-summary" }, I18n.t("bulk.summary", {
    rows: fmtNum(dry.rows), members: fmtNum(dry.members),
    added: fmtNum(dry.points_added), removed: fmtNum(dry.points_removed) })));
  if (dry.existing) {
    box.append(el("p", { class: "muted", id: "bulk-existing" },
      I18n.t("bulk.existing", { when: fmtTime(dry.existing.created_at), status: I18n.t("bulk.status." + dry.existing.status, null, true) || dry.existing.status })));
  }
  if (dry.bad_count > 0) {
    box.append(el("p", { class: "error", id: "bulk-bad-count" }, I18n.t("bulk.bad", { n: fmtNum(dry.bad_count) })),
      el("table", { class: "bulk-bad" },
        el("thead", {}, el("tr", {}, el("th", {}, I18n.t("bulk.col_line")), el("th", {}, I18n.t("bulk.col_why")))),
        el("tbody", {}, dry.bad.map((b) => el("tr", {}, el("td", { class: "num" }, String(b.line)), el("td", {}, b.why))))));
    if (dry.bad_count > dry.bad.length) {
      box.append(el("p", { class: "muted" }, I18n.t("bulk.more_bad", { n: fmtNum(dry.bad_count - dry.bad.length) })));
    }
    return box;
  }
  if (dry.existing) return box;
  const confirmLarge = el("input", { type: "checkbox", id: "bulk-confirm-large" });
  if (dry.large_rows > 0) {
    box.append(el("label", { class: "check" }, confirmLarge,
      I18n.t("bulk.confirm_large", { n: fmtNum(dry.large_rows), limit: fmtNum(Admin.session.large_adjustment_points) })));
  }
  const apply = el("button", { type: "button", id: "bulk-apply" }, I18n.t("bulk.apply", { n: fmtNum(dry.rows) }));
  apply.addEventListener("click", async () => {
    if (!await Manage.confirm(I18n.t("bulk.apply_title"),
      I18n.t("bulk.apply_consequence", { rows: fmtNum(dry.rows), members: fmtNum(dry.members) }),
      I18n.t("bulk.apply", { n: fmtNum(dry.rows) }))) return;
    const query = "?file_name=" + encodeURIComponent(file.name) + (confirmLarge.checked ? "&confirm_large=true" : "");
    submitChange(apply, () => api("POST", bulkPath(query), file.bytes, newKey()),
      async () => { box.remove(); await reload(); });
  });
  box.append(apply);
  return box;
}

function bulkForm(reload) {
  const result = el("div", { id: "bulk-check-result", role: "status" });
  const input = el("input", { type: "file", id: "bulk-file", accept: ".csv,.txt,text/csv,text/plain" });
  input.addEventListener("change", async () => {
    if (input.files.length === 0) return;
    // The bytes checked are the bytes applied, whatever happens to the file on disk meanwhile.
    const chosen = input.files[0];
    clear(result);
    input.disabled = true;
    try {
      const file = { name: chosen.name, bytes: new Blob([await chosen.arrayBuffer()], { type: "text/csv" }) };
      const dry = await api("POST", bulkPath("/check"), file.bytes);
      result.append(dryRunCard(dry, file, reload));
    } catch (e) {
      result.append(el("p", { class: "error", id: "bulk-error" }, errorText(e)));
    } finally {
      input.disabled = false;
      input.value = "";
    }
  });
  return el("div", { class: "card", id: "bulk-form" },
    el("h2", {}, I18n.t("bulk.new")),
    el("p", { class: "muted" }, I18n.t("bulk.format")),
    el("pre", { class: "mono bulk-example" }, "member;points;reason;note\ntelegram:@anna;100;Contest winner;Congratulations!\nvk:id1234;-50;Duplicate account;\n2f1c7b9e-1d1a-4c55-9a6e-4b0e8a0a0a01;20;Outage goodwill;Sorry!"),
    el("p", { class: "muted" }, I18n.t("bulk.privacy")),
    el("label", {}, I18n.t("bulk.choose"), input), result);
}

Views.bulkAdjustments = async function (view) {
  clearTimeout(bulkTimer);
  view.append(el("h1", {}, I18n.t("nav.bulk")), el("p", { class: "muted" }, I18n.t("bulk.intro")));
  const list = el("div", { id: "bulk-list" });
  const load = async () => {
    const { bulk_adjustments: items } = await api("GET", bulkPath());
    clear(list);
    if (items.length === 0) {
      list.append(el("p", { class: "muted" }, I18n.t("bulk.none")));
    } else {
      list.append(el("table", {},
        el("thead", {}, el("tr", {}, ["bulk.col_when", "bulk.col_file", "bulk.col_by", "bulk.col_rows", "bulk.col_points", "bulk.col_status", "bulk.col_actions"]
          .map((k) => el("th", {}, I18n.t(k))))),
        el("tbody", {}, items.map((b) => bulkRow(b, load)))));
    }
    clearTimeout(bulkTimer);
    if (items.some(bulkBusy)) {
      bulkTimer = setTimeout(() => { if (document.body.contains(list)) load().catch(() => {}); }, BULK_REFRESH_MS);
    }
  };
  if (can("manage")) view.append(bulkForm(load));
  view.append(el("h2", {}, I18n.t("bulk.list")), list);
  await load();
};
