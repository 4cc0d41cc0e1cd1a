// Forms that change things: points, reversals, blocks, campaigns, rewards, rules, accounts.
// Each form gets an Idempotency-Key when it is shown and a new one after a success, so a
// double click is recorded once.
"use strict";

const Manage = {};

async function submitChange(button, run, done) {
  button.disabled = true;
  try {
    const reply = await run();
    toast(reply && reply.outcome === "duplicate" ? I18n.t("common.duplicate") : I18n.t("common.saved"));
    if (done) await done(reply);
  } catch (e) {
    toast(errorText(e), true);
  } finally {
    button.disabled = false;
  }
}

// Asks before a change that is hard to take back: a modal dialog saying what will happen, with
// the action's own name on the button. Resolves true only when the manager confirms.
Manage.confirm = function (title, consequence, action) {
  const old = document.getElementById("confirm-dialog");
  if (old) old.remove();
  return new Promise((resolve) => {
    const dialog = el("dialog", { id: "confirm-dialog", class: "confirm" },
      el("h2", {}, title), el("p", { id: "confirm-consequence" }, consequence));
    const close = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    dialog.append(el("div", { class: "confirm-buttons" },
      el("button", { type: "button", class: "secondary", id: "confirm-no", onclick: () => close(false) }, I18n.t("common.cancel")),
      el("button", { type: "button", class: "danger", id: "confirm-yes", onclick: () => close(true) }, action)));
    dialog.addEventListener("cancel", (e) => { e.preventDefault(); close(false); });
    document.body.append(dialog);
    dialog.showModal();
    document.getElementById("confirm-no").focus();
  });
};

// A card at the top of the view asking for a reason, then running `run(reason, key, note)`.
// With `withNote`, the reason is labelled internal and an optional note to the member is asked.
Manage.askReason = function (title, run, done, withNote, consequence) {
  const old = document.getElementById("reason-box");
  if (old) old.remove();
  const key = newKey();
  const input = el("input", { id: "reason-input", required: true, size: 50 });
  const note = el("input", { id: "reason-note", size: 50 });
  const ok = el("button", { type: "submit", id: "reason-confirm" }, I18n.t("common.confirm"));
  const form = el("form", { class: "inline card", id: "reason-box" },
    el("strong", {}, title), el("span", { class: "spacer" }),
    consequence ? el("p", { class: "consequence", id: "reason-consequence" }, consequence) : null,
    el("label", {}, I18n.t(withNote ? "card.reason_internal" : "common.reason"), input),
    withNote ? el("label", {}, I18n.t("card.note_member"), note) : null, ok,
    el("button", { type: "button", class: "secondary", onclick: () => form.remove() }, I18n.t("common.cancel")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitChange(ok, () => run(input.value, key, withNote ? note.value : undefined), done);
  });
  document.getElementById("view").prepend(form);
  input.focus();
};

Manage.memberForms = function (card, done) {
  const path = programPath("/members/" + encodeURIComponent(card.member_id));
  let key = newKey();
  const points = el("input", { id: "adjust-points", type: "number", step: "1", required: true, size: 8 });
  const reason = el("input", { id: "adjust-reason", required: true, size: 40 });
  const note = el("input", { id: "adjust-note", size: 40 });
  const submit = el("button", { type: "submit", id: "adjust-submit" }, I18n.t("card.apply"));
  const adjust = el("form", { class: "inline", id: "adjust-form" },
    el("label", {}, I18n.t("card.points"), points),
    el("label", {}, I18n.t("card.reason_internal"), reason),
    el("label", {}, I18n.t("card.note_member"), note), submit);
  adjust.addEventListener("submit", async (e) => {
    e.preventDefault();
    // Sent as typed: the server refuses zero, fractions and out-of-range numbers.
    const value = points.value.trim() === "" ? null : Number(points.value);
    const body = { points: value, reason: reason.value, note: note.value };
    const limit = Admin.session.large_adjustment_points;
    if (Number.isInteger(value) && Math.abs(value) > limit) {
      const sure = await Manage.confirm(I18n.t("card.large_title"),
        I18n.t("card.large_text", { points: fmtSigned(value), limit: fmtNum(limit) }),
        I18n.t("card.large_yes", { points: fmtSigned(value) }));
      if (!sure) return;
      body.confirm_large = true;
    }
    submitChange(submit, () => api("POST", path + "/adjustments", body, key),
      () => { key = newKey(); return done(); });
  });
  return el("div", { class: "card" }, el("h2", {}, I18n.t("card.adjust")), adjust);
};

// One person, one member: unlink an account, or link here another member's account (from the
// suggestions with the same handle, or by that member's id); each with a reason.
Manage.unlinkButton = function (card, account, done) {
  const path = programPath("/members/" + encodeURIComponent(card.member_id) + "/accounts/" +
    encodeURIComponent(account.account_ref) + "/unlink");
  return el("button", { type: "button", class: "secondary unlink-button", onclick: () =>
    Manage.askReason(I18n.t("same.unlink_title", { account: accountLabel(account) }),
      (r, k) => api("POST", path, { reason: r }, k), done, false, I18n.t("same.unlink_consequence")) },
    I18n.t("account.unlink"));
};

Manage.samePerson = async function (card, done) {
  const path = programPath("/members/" + encodeURIComponent(card.member_id));
  const name = card.name || I18n.t("members.unnamed");
  const linkButton = (account) => el("button", { type: "button", class: "link-account", onclick: () =>
    Manage.askReason(I18n.t("same.link_title", { account: accountLabel(account), name }),
      (r, k) => api("POST", path + "/accounts", { account: account.account_ref, reason: r }, k), done, false,
      I18n.t("same.link_consequence", { name })) }, I18n.t("same.link"));
  const accountsOf = (member, accounts) => el("div", { class: "same-person" },
    el("a", { href: "#/members/" + member }, I18n.t("same.member")), " ",
    accounts.map((a) => el("span", { class: "same-account" }, networkName(a.network), " ", accountLabel(a), " ", linkButton(a))));
  const { suggestions } = await api("GET", path + "/same-person");
  const found = el("div", { id: "same-person-found" });
  const other = el("input", { id: "same-person-id", size: 38, placeholder: I18n.t("same.id_placeholder") });
  const look = el("form", { class: "inline", id: "same-person-form" },
    el("label", {}, I18n.t("same.by_id"), other),
    el("button", { type: "submit", class: "secondary" }, I18n.t("common.find")));
  look.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(found);
    try {
      const them = await api("GET", programPath("/members/" + encodeURIComponent(other.value.trim()) + "?limit=1"));
      found.append(accountsOf(them.member_id, them.accounts));
    } catch (err) {
      found.append(el("p", { class: "error" }, errorText(err)));
    }
  });
  return el("div", { class: "card", id: "same-person-card" }, el("h2", {}, I18n.t("same.title")),
    el("p", { class: "muted" }, I18n.t(suggestions.length ? "same.suggested" : "same.none")),
    suggestions.map((s) => el("div", { class: "suggestion" },
      el("strong", {}, "@" + s.handle), " · ", accountsOf(s.member_id, s.accounts))),
    look, found);
};

// Blocking, apart from the everyday forms so it is never clicked for Apply.
Manage.memberStatus = function (card, done) {
  const path = programPath("/members/" + encodeURIComponent(card.member_id));
  const name = card.name || I18n.t("members.unnamed");
  const button = card.blocked
    ? el("button", { type: "button", id: "unblock-button", class: "secondary", onclick: (e) =>
        submitChange(e.target, () => api("POST", path + "/unblock", undefined, newKey()), done) }, I18n.t("card.unblock"))
    : el("button", { type: "button", id: "block-button", class: "danger", onclick: () =>
        Manage.askReason(I18n.t("card.block"), (r, k) => api("POST", path + "/block", { reason: r }, k), done,
          false, I18n.t("card.block_consequence", { name })) },
        I18n.t("card.block"));
  return el("div", { class: "card", id: "member-status-card" }, el("h2", {}, I18n.t("card.status_title")),
    el("p", { class: "muted" }, I18n.t(card.blocked ? "card.blocked_now" : "card.block_help")), button,
    Manage.reverseAwardsForm(card, done));
};

// Every award of the member in a period reversed at once (an account farm's harvest), with one
// reason; the server leaves awards already reversed alone, so running it twice changes nothing.
Manage.reverseAwardsForm = function (card, done) {
  const path = programPath("/members/" + encodeURIComponent(card.member_id) + "/award-reversals");
  const from = el("input", { type: "datetime-local", id: "reverse-awards-from", required: true });
  const until = el("input", { type: "datetime-local", id: "reverse-awards-until", required: true });
  const submit = el("button", { type: "submit", id: "reverse-awards-submit", class: "danger" }, I18n.t("card.reverse_awards"));
  const form = el("form", { class: "inline", id: "reverse-awards-form" },
    el("label", {}, I18n.t("card.reverse_awards_from"), from),
    el("label", {}, I18n.t("card.reverse_awards_until"), until), submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    // datetime-local is the manager's local time; the server takes instants.
    const range = { from: new Date(from.value).toISOString(), until: new Date(until.value).toISOString() };
    Manage.askReason(I18n.t("card.reverse_awards_title"),
      (reason, key, note) => api("POST", path, Object.assign({ reason, note }, range), key).then((reply) => {
        if (reply && reply.outcome === "unchanged") toast(I18n.t("card.reverse_awards_none"));
        return reply;
      }), done, true, I18n.t("card.reverse_awards_consequence"));
  });
  return el("div", { id: "reverse-awards" }, el("h3", {}, I18n.t("card.reverse_awards_heading")),
    el("p", { class: "muted" }, I18n.t("card.reverse_awards_help")), form);
};

// Admins only: a written request's export (a download) and erasure (a ground from a closed
// list and an explicit confirmation).
Manage.personalData = function (card, done) {
  const path = programPath("/members/" + encodeURIComponent(card.member_id));
  const download = el("button", { type: "button", id: "export-button", class: "secondary", onclick: async (e) => {
    e.target.disabled = true;
    try {
      const data = await api("GET", path + "/export");
      const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
      const link = el("a", { href: URL.createObjectURL(blob), download: "member-" + card.member_id + ".json" });
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (err) {
      toast(errorText(err), true);
    } finally {
      e.target.disabled = false;
    }
  } }, I18n.t("card.export"));
  const box = el("div", { class: "card", id: "personal-data" }, download);
  if (card.erased) return box;
  const reason = el("select", { id: "erase-reason" },
    ...["manager_request", "legal_order", "other"].map((r) => el("option", { value: r }, I18n.t("erase." + r))));
  const submit = el("button", { type: "submit", id: "erase-submit", class: "danger" }, I18n.t("card.erase"));
  const form = el("form", { class: "inline", id: "erase-form" },
    el("label", {}, I18n.t("card.erase_reason"), reason), submit);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!await Manage.confirm(I18n.t("card.erase"), I18n.t("card.erase_warning"), I18n.t("card.erase"))) return;
    submitChange(submit, () => api("POST", path + "/erasure", { reason: reason.value }, newKey()), done);
  });
  box.append(el("p", { class: "muted" }, I18n.t("card.erase_warning")), form);
  return box;
};

Manage.reverse = function (memberId, line, done) {
  const path = programPath("/members/" + encodeURIComponent(memberId) + "/reversals");
  Manage.askReason(I18n.t("card.reverse_title", { delta: fmtSigned(line.delta) }),
    (reason, key, note) => api("POST", path, { entry_id: line.entry_id, reason, note }, key), done, true,
    I18n.t("card.reverse_consequence", { delta: fmtSigned(-line.delta) }));
};

Manage.cancelRedemption = function (redemptionId, done) {
  const path = programPath("/redemptions/" + encodeURIComponent(redemptionId) + "/cancel");
  Manage.askReason(I18n.t("rewards.cancel"), (reason, key) => api("POST", path, { reason }, key), done);
};

function statusBadge(status) {
  return el("span", { class: "badge " + status }, I18n.t("status." + status, null, true) || status);
}

Views.campaigns = async function (view) {
  const { campaigns } = await api("GET", programPath("/campaigns"));
  view.append(el("h1", {}, I18n.t("nav.campaigns")));
  if (can("manage")) view.append(campaignForm());
  const act = (c, what) => el("button", { type: "button", class: what === "end" ? "danger" : "secondary",
    "data-action": what, onclick: async (e) => {
      const button = e.target;
      if (what === "end" && !await Manage.confirm(I18n.t("campaign.end_title", { name: c.name }),
        I18n.t("campaign.end_consequence", { codeword: c.codeword }), I18n.t("campaign.end"))) return;
      submitChange(button, () => api("POST", programPath("/campaigns/" + c.campaign_id + "/" + what), undefined, newKey()),
        () => App.render());
    } }, I18n.t("campaign." + what));
  view.append(table([
    ["campaign.name", (c) => el("a", { href: "#/campaigns/" + c.campaign_id }, c.name)],
    ["campaign.codeword", (c) => el("span", { class: "mono" }, c.codeword)],
    ["card.points", (c) => fmtNum(c.points), "num"],
    ["campaign.window", (c) => fmtTime(c.starts_at) + " – " + fmtTime(c.ends_at)],
    ["campaign.networks", (c) => c.networks.map(networkName).join(", ")],
    ["campaign.redeemed", (c) => fmtNum(c.redemptions), "num"],
    ["campaign.remaining", (c) => c.remaining === null ? "∞" : fmtNum(c.remaining), "num"],
    ["common.status", (c) => statusBadge(c.status)],
    ["common.actions", (c) => !can("manage") || c.status === "ended" ? "" : el("span", {},
      c.status === "active" ? act(c, "pause") : act(c, "resume"), " ", act(c, "end"))],
  ], campaigns, "campaign-row"));
};

function campaignForm() {
  let key = newKey();
  const now = new Date();
  const local = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const input = (id, label, attrs) => el("label", {}, I18n.t(label), el("input", Object.assign({ id }, attrs)));
  const nets = ["instagram", "vk", "telegram"].map((n) =>
    el("label", {}, networkName(n), el("input", { type: "checkbox", id: "campaign-net-" + n, checked: true })));
  const submit = el("button", { type: "submit", id: "campaign-submit" }, I18n.t("campaign.create"));
  const form = el("form", { class: "inline", id: "campaign-form" },
    input("campaign-name", "campaign.name", { required: true }),
    input("campaign-codeword", "campaign.codeword", { required: true }),
    input("campaign-points", "card.points", { type: "number", min: 1, step: 1, required: true, size: 6 }),
    input("campaign-start", "campaign.starts", { type: "datetime-local", required: true, value: local(now) }),
    input("campaign-end", "campaign.ends", { type: "datetime-local", required: true,
      value: local(new Date(now.getTime() + 7 * 86400000)) }),
    input("campaign-cap", "campaign.cap", { type: "number", min: 1, step: 1, size: 6 }),
    input("campaign-post", "campaign.post", {}),
    el("label", { class: "wide" }, I18n.t("campaign.description"),
      el("textarea", { id: "campaign-description", maxlength: 500, rows: 2 }),
      el("span", { class: "muted" }, I18n.t("campaign.description_hint"))),
    ...nets, submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = (id) => document.getElementById(id).value.trim();
    const body = {
      name: v("campaign-name"), codeword: v("campaign-codeword"), points: Number(v("campaign-points")),
      starts_at: new Date(v("campaign-start")).toISOString(), ends_at: new Date(v("campaign-end")).toISOString(),
      total_cap: v("campaign-cap") ? Number(v("campaign-cap")) : null,
      networks: ["instagram", "vk", "telegram"].filter((n) => document.getElementById("campaign-net-" + n).checked),
      target_post: v("campaign-post") || null,
      description: v("campaign-description") || null,
    };
    submitChange(submit, () => api("POST", programPath("/campaigns"), body, key),
      () => { key = newKey(); return App.render(); });
  });
  return el("div", { class: "card" }, el("h2", {}, I18n.t("campaign.new")), form);
}

Views.campaign = async function (view, campaignId) {
  const r = await api("GET", programPath("/campaigns/" + encodeURIComponent(campaignId) + "/redemptions"));
  const c = r.campaign;
  view.append(
    el("p", {}, el("a", { href: "#/campaigns" }, "← " + I18n.t("nav.campaigns"))),
    el("h1", {}, c.name, " ", statusBadge(c.status)),
    el("p", {}, I18n.t("campaign.summary", { codeword: c.codeword, points: fmtNum(c.points),
      redeemed: fmtNum(c.redemptions), remaining: c.remaining === null ? "∞" : fmtNum(c.remaining) })),
    table([
      ["card.when", (x) => fmtTime(x.redeemed_at)],
      ["members.account", (x) => el("a", { href: "#/members/" + x.member_id }, x.label ? accountLabel(x.label) : x.member_id)],
      ["members.network", (x) => networkName(x.network)],
      ["card.points", (x) => fmtNum(x.points), "num"],
      ["campaign.reference", (x) => el("span", { class: "mono" }, x.reference)],
    ], r.redeemed, "redeemer-row"));
};

// A reward's stock: units, or for a coupon pool its unused codes of those uploaded.
function rewardStock(r) {
  return r.coupon_pool
    ? I18n.t("rewards.codes_left", { stock: fmtNum(r.stock), codes_uploaded: fmtNum(r.codes_uploaded) })
    : fmtNum(r.stock);
}

// A badge once the stock fell to the level the manager asked to be alerted at.
function lowStockBadge(r) {
  const alert = r.low_stock_alert;
  if (r.delisted || alert === null || alert === undefined || r.stock > alert) return null;
  return el("span", { class: "badge low-stock",
    title: I18n.t("rewards.low_stock_hint", { stock: fmtNum(r.stock), threshold: fmtNum(alert) }) },
  I18n.t("rewards.low_stock"));
}

function rewardSummary(r) {
  const values = { cost: fmtNum(r.cost), stock: fmtNum(r.stock), issued: fmtNum(r.issued),
    returned: fmtNum(r.returned), codes_uploaded: fmtNum(r.codes_uploaded) };
  return I18n.t(r.coupon_pool ? "rewards.pool_summary" : "rewards.summary", values);
}

// A new reward. With codes from the shop, its stock is the codes uploaded on its page later,
// so the stock is not asked.
function rewardForm() {
  let key = newKey();
  const stock = el("input", { id: "reward-stock", type: "number", min: 0, step: 1, required: true, size: 6 });
  const stockLabel = el("label", {}, I18n.t("rewards.stock"), stock);
  const pool = el("input", { id: "reward-pool", type: "checkbox" });
  const returns = el("input", { id: "reward-return-codes", type: "checkbox" });
  const returnsLabel = el("label", { hidden: true }, I18n.t("rewards.return_codes"), returns);
  const alert = el("input", { id: "reward-low-stock", type: "number", min: 0, step: 1, size: 6 });
  pool.addEventListener("change", () => {
    stockLabel.hidden = pool.checked;
    stock.required = !pool.checked;
    returnsLabel.hidden = !pool.checked;
  });
  const submit = el("button", { type: "submit", id: "reward-submit" }, I18n.t("rewards.create"));
  const form = el("form", { class: "inline", id: "reward-form" },
    el("label", {}, I18n.t("rewards.title"), el("input", { id: "reward-title", required: true })),
    el("label", {}, I18n.t("rewards.cost"), el("input", { id: "reward-cost", type: "number", min: 1, step: 1, required: true, size: 6 })),
    el("label", {}, I18n.t("rewards.pool"), pool), stockLabel, returnsLabel,
    el("label", {}, I18n.t("rewards.low_stock_alert"), alert),
    submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const pooled = pool.checked;
    const body = { title: document.getElementById("reward-title").value,
      cost: Number(document.getElementById("reward-cost").value),
      stock: pooled ? 0 : Number(stock.value), coupon_pool: pooled, return_codes: pooled && returns.checked,
      low_stock_alert: alert.value.trim() === "" ? null : Number(alert.value) };
    submitChange(submit, () => api("POST", programPath("/rewards"), body, key),
      () => { key = newKey(); return App.render(); });
  });
  return el("div", { class: "card" }, el("h2", {}, I18n.t("rewards.new")), form);
}

Views.rewards = async function (view) {
  const { rewards } = await api("GET", programPath("/rewards"));
  view.append(el("h1", {}, I18n.t("nav.rewards")));
  if (can("manage")) view.append(rewardForm());
  const stockForm = (r) => {
    const input = el("input", { type: "number", step: 1, size: 5, class: "stock-delta" });
    const button = el("button", { type: "submit", class: "secondary" }, I18n.t("rewards.change_stock"));
    const key = newKey();
    const form = el("form", { class: "inline" }, input, button);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      submitChange(button, () => api("POST", programPath("/rewards/" + r.reward_id + "/stock"),
        { delta: Number(input.value) }, key), () => App.render());
    });
    return form;
  };
  // A coupon pool's stock is its unused codes: it grows by uploads on the reward's page.
  const uploadLink = (r) => el("a", { href: "#/rewards/" + r.reward_id, class: "upload-link" }, I18n.t("rewards.upload_link"));
  view.append(table([
    ["rewards.title", (r) => el("a", { href: "#/rewards/" + r.reward_id }, r.title)],
    ["rewards.cost", (r) => fmtNum(r.cost), "num"],
    ["rewards.stock", (r) => el("span", {}, rewardStock(r), lowStockBadge(r) ? " " : "", lowStockBadge(r)), "num"],
    ["rewards.issued", (r) => fmtNum(r.issued), "num"],
    ["rewards.returned", (r) => fmtNum(r.returned), "num"],
    ["common.status", (r) => r.delisted ? statusBadge("delisted") : statusBadge("active")],
    ["common.actions", (r) => !can("manage") || r.delisted ? "" : el("span", {},
      r.coupon_pool ? uploadLink(r) : stockForm(r), " ",
      el("button", { type: "button", class: "danger", "data-action": "delist", onclick: async (e) => {
        const button = e.target;
        if (!await Manage.confirm(I18n.t("rewards.delist_title", { title: r.title }),
          I18n.t("rewards.delist_consequence"), I18n.t("rewards.delist"))) return;
        submitChange(button, () => api("POST", programPath("/rewards/" + r.reward_id + "/delist"), undefined, newKey()),
          () => App.render());
      } }, I18n.t("rewards.delist")))],
  ], rewards, "reward-row"));
  const keys = Manage.shopKeys();
  view.append(keys.box);
  await keys.load();
};

// A coupon pool's codes: a file from the shop (CSV, its first column, or one code per line),
// sent as it is. Each upload is its own change; codes the pool knows are skipped.
function codesCard(reward, changed) {
  const path = programPath("/rewards/" + encodeURIComponent(reward.reward_id) + "/codes");
  const result = el("p", { id: "codes-result", role: "status" });
  const file = el("input", { type: "file", id: "codes-file", accept: ".csv,.txt,text/csv,text/plain" });
  file.addEventListener("change", async () => {
    if (file.files.length === 0) return;
    const body = new Blob([file.files[0]], { type: "text/csv" });
    file.disabled = true;
    result.className = "";
    result.textContent = "";
    try {
      const reply = await api("POST", path, body, newKey());
      result.className = "ok";
      result.textContent = I18n.t("rewards.upload_result", { added: fmtNum(reply.added), skipped: fmtNum(reply.skipped) });
      changed(reply);
    } catch (e) {
      result.className = "error";
      result.textContent = errorText(e);
    } finally {
      file.disabled = false;
      file.value = "";
    }
  });
  return el("div", { class: "card", id: "codes-card" }, el("h2", {}, I18n.t("rewards.codes")),
    el("p", { class: "muted" }, I18n.t("rewards.codes_hint"),
      reward.return_codes ? " " + I18n.t("rewards.returns_codes") : ""),
    el("label", {}, I18n.t("rewards.upload"), file), result);
}

// The shop has accepted the coupon: asked first, since a used coupon cannot be cancelled.
Manage.useCoupon = async function (button, coupon, done) {
  if (!await Manage.confirm(I18n.t("rewards.use_title", { code: coupon.coupon_code }),
    I18n.t("rewards.use_consequence"), I18n.t("rewards.mark_used"))) return;
  const path = programPath("/redemptions/" + encodeURIComponent(coupon.redemption_id) + "/use");
  submitChange(button, () => api("POST", path, {}, newKey()), done);
};

// A coupon's state: cancelled (by whom, why), used (when, by whom) or issued.
function couponStatus(c) {
  if (c.cancelled_at) return I18n.t("rewards.cancelled") + " (" + (c.cancelled_by || "") + "): " + (c.cancel_reason || "");
  if (c.used_at) {
    return el("span", { class: "coupon-used" }, I18n.t("rewards.used", { when: fmtTime(c.used_at) }),
      c.used_by ? el("span", { class: "muted" }, " · " + c.used_by) : null);
  }
  return "";
}

Views.reward = async function (view, rewardId) {
  const [{ coupons }, { rewards }] = await Promise.all([
    api("GET", programPath("/rewards/" + encodeURIComponent(rewardId) + "/coupons")),
    api("GET", programPath("/rewards"))]);
  const reward = rewards.find((r) => r.reward_id === rewardId);
  const summary = el("p", { id: "reward-summary" });
  const showSummary = () => {
    const badge = lowStockBadge(reward);
    summary.replaceChildren(rewardSummary(reward));
    if (badge) summary.append(" ", badge);
  };
  if (reward) showSummary();
  view.append(
    el("p", {}, el("a", { href: "#/rewards" }, "← " + I18n.t("nav.rewards"))),
    el("h1", { id: "reward-heading" }, reward ? reward.title : I18n.t("rewards.coupons"), " ",
      reward ? statusBadge(reward.delisted ? "delisted" : "active") : ""),
    reward ? summary : "");
  // An upload answers with the pool's stock: the summary follows without waiting for the
  // catalog's read model.
  if (reward && reward.coupon_pool && !reward.delisted && can("manage")) {
    view.append(codesCard(reward, (reply) => {
      reward.stock = typeof reply.stock === "number" ? reply.stock : reward.stock + reply.added;
      reward.codes_uploaded = (reward.codes_uploaded || 0) + reply.added;
      showSummary();
    }));
  }
  const actions = (c) => {
    if (c.cancelled_at || c.used_at || !can("manage")) return "";
    return el("span", {},
      el("button", { type: "button", class: "mark-used", onclick: (e) =>
        Manage.useCoupon(e.target, c, () => App.render()) }, I18n.t("rewards.mark_used")), " ",
      el("button", { type: "button", class: "secondary cancel-redemption",
        onclick: () => Manage.cancelRedemption(c.redemption_id, () => App.render()) }, I18n.t("rewards.cancel")));
  };
  view.append(
    el("h2", {}, I18n.t("rewards.coupons")),
    table([
      ["card.when", (c) => fmtTime(c.redeemed_at)],
      ["members.account", (c) => c.member_name
        ? el("a", { href: "#/members/" + c.member_id }, c.member_name)
        : el("a", { href: "#/members/" + c.member_id, class: "mono" }, c.member_id)],
      ["card.coupon", (c) => el("span", { class: "mono" }, c.coupon_code)],
      ["rewards.cost", (c) => fmtNum(c.cost), "num"],
      ["common.status", couponStatus],
      ["common.actions", actions],
    ], coupons, "coupon-row"));
};

// Keys a till or an e-shop checks and accepts coupons with. A new key's token is shown once,
// right after it is created; the list never shows tokens.
Manage.shopKeys = function () {
  const box = el("div", { class: "card", id: "shop-keys" },
    el("h2", {}, I18n.t("shop.title")), el("p", { class: "muted" }, I18n.t("shop.hint")));
  const list = el("div", { id: "shop-key-list" });
  const load = async () => {
    try {
      const { keys } = await api("GET", programPath("/shop-keys"));
      list.replaceChildren(shopKeyTable(keys, load));
    } catch (e) {
      // A role that may not see the keys does not see the section either.
      if (e instanceof ApiError && e.status === 403) box.remove();
      else list.replaceChildren(el("p", { class: "error" }, errorText(e)));
    }
  };
  if (can("manage")) {
    const shown = el("div", { id: "shop-key-new" });
    box.append(shopKeyForm(shown, load), shown);
  }
  box.append(list);
  return { box, load };
};

function shopKeyForm(shown, load) {
  let key = newKey();
  const scopes = ["coupons:read", "coupons:use"];
  const name = el("input", { id: "shop-key-name", required: true, maxlength: 80 });
  const boxes = scopes.map((s) => el("input", { type: "checkbox", id: "shop-key-scope-" + s.split(":")[1], value: s, checked: true }));
  const submit = el("button", { type: "submit", id: "shop-key-submit" }, I18n.t("shop.create"));
  const form = el("form", { class: "inline", id: "shop-key-form" },
    el("label", {}, I18n.t("shop.name"), name),
    scopes.map((s, i) => el("label", {}, I18n.t("shop.scope." + s), boxes[i])), submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { name: name.value.trim(), scopes: boxes.filter((b) => b.checked).map((b) => b.value) };
    submitChange(submit, () => api("POST", programPath("/shop-keys"), body, key), async (reply) => {
      key = newKey();
      name.value = "";
      if (reply && reply.token) shown.replaceChildren(shopKeyToken(body.name, reply.token));
      await load();
    });
  });
  return form;
}

// The token, once: as text (never as HTML), with a copy button and where it goes.
function shopKeyToken(name, token) {
  const value = el("code", { id: "shop-key-token", class: "mono" }, token);
  const copy = el("button", { type: "button", class: "secondary", id: "shop-key-copy", onclick: async () => {
    try {
      await navigator.clipboard.writeText(token);
      toast(I18n.t("shop.copied"));
    } catch (_) {
      // No clipboard (a page not served over https): selected, for Ctrl+C.
      const range = document.createRange();
      range.selectNodeContents(value);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    }
  } }, I18n.t("shop.copy"));
  return el("div", { class: "token-box" }, el("strong", {}, I18n.t("shop.token_title", { name })),
    el("div", { class: "token-line" }, value, copy), el("p", {}, I18n.t("shop.token_hint")));
}

function shopKeyTable(keys, load) {
  const revoke = (k) => el("button", { type: "button", class: "danger", "data-action": "revoke", onclick: async (e) => {
    const button = e.target;
    if (!await Manage.confirm(I18n.t("shop.revoke_title", { name: k.name }),
      I18n.t("shop.revoke_consequence"), I18n.t("shop.revoke"))) return;
    submitChange(button, () => api("POST", programPath("/shop-keys/" + encodeURIComponent(k.key_id) + "/revoke"),
      undefined, newKey()), load);
  } }, I18n.t("shop.revoke"));
  return table([
    ["campaign.name", (k) => k.name],
    ["shop.scopes", (k) => k.scopes.map((s) => I18n.t("shop.scope." + s, null, true) || s).join(", ")],
    ["shop.created_by", (k) => k.created_by || "—"],
    ["shop.created_at", (k) => fmtTime(k.created_at)],
    ["shop.last_used", (k) => k.last_used_at ? fmtTime(k.last_used_at) : I18n.t("shop.never")],
    ["common.status", (k) => k.revoked_at
      ? el("span", { class: "badge revoked", title: fmtTime(k.revoked_at) }, I18n.t("status.revoked"))
      : el("span", { class: "badge active" }, I18n.t("shop.active"))],
    ["common.actions", (k) => !can("manage") || k.revoked_at ? "" : revoke(k)],
  ], keys, "shop-key-row");
}

Views.users = async function (view) {
  const { users } = await api("GET", "/api/v1/admin/users");
  const roles = ["admin", "manager", "auditor"];
  const submit = el("button", { type: "submit", id: "user-submit" }, I18n.t("users.create"));
  const form = el("form", { class: "inline", id: "user-form" },
    el("label", {}, I18n.t("login.username"), el("input", { id: "user-name", required: true })),
    el("label", {}, I18n.t("login.password"), el("input", { id: "user-password", type: "password", required: true, minlength: 10, autocomplete: "new-password" })),
    el("label", {}, I18n.t("users.role"), el("select", { id: "user-role" },
      roles.map((r) => el("option", { value: r, selected: r === "manager" }, I18n.t("role." + r))))),
    el("label", {}, I18n.t("users.programs"), el("select", { id: "user-program" },
      [el("option", { value: "" }, I18n.t("users.allPrograms"))].concat(
        (Admin.programs || []).map((p) => el("option", { value: p.program_id }, p.name))))),
    submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { username: document.getElementById("user-name").value,
      password: document.getElementById("user-password").value, role: document.getElementById("user-role").value };
    // Admins manage every program; a manager or auditor may be limited to one from here.
    const program = document.getElementById("user-program").value;
    if (program && body.role !== "admin") body.programs = [program];
    submitChange(submit, () => api("POST", "/api/v1/admin/users", body), () => App.render());
  });
  const change = (u, body) => (e) => submitChange(e.target,
    () => api("PUT", "/api/v1/admin/users/" + encodeURIComponent(u.username), body), () => App.render());
  view.append(el("h1", {}, I18n.t("nav.users")), el("div", { class: "card" }, form), table([
    ["login.username", (u) => u.username],
    ["users.role", (u) => I18n.t("role." + u.role)],
    ["users.programs", (u) => u.programs
      ? u.programs.map((id) => ((Admin.programs || []).find((p) => p.program_id === id) || { name: id }).name).join(", ")
      : I18n.t("users.allPrograms")],
    ["users.created", (u) => fmtTime(u.created_at)],
    ["users.telegram", (u) => u.telegram_linked ? el("span", { class: "telegram-linked" },
      telegramName(u), " ", el("button", { type: "button", class: "link", onclick: change(u, { unlink_telegram: true }) },
        I18n.t("account.unlink"))) : "—"],
    ["common.status", (u) => u.disabled_at ? statusBadge("disabled") : statusBadge("active")],
    ["common.actions", (u) => u.username === Admin.session.username ? "" : el("span", {},
      u.disabled_at
        ? el("button", { type: "button", class: "secondary", onclick: change(u, { disabled: false }) }, I18n.t("users.enable"))
        : el("button", { type: "button", class: "danger", onclick: change(u, { disabled: true }) }, I18n.t("users.disable")),
      " ", el("select", { onchange: (e) => change(u, { role: e.target.value })(e) },
        roles.map((r) => el("option", { value: r, selected: r === u.role }, I18n.t("role." + r)))),
      // Admins manage every program; others may be limited to one from here.
      u.role === "admin" ? "" : el("select", { class: "user-scope",
        onchange: (e) => change(u, e.target.value ? { programs: [e.target.value] } : { every_program: true })(e) },
        [el("option", { value: "", selected: !u.programs }, I18n.t("users.allPrograms"))].concat(
          (Admin.programs || []).map((p) => el("option", {
            value: p.program_id, selected: !!u.programs && u.programs.length === 1 && u.programs[0] === p.program_id,
          }, p.name)))))],
  ], users, "user-row"));
};

function telegramName(u) {
  return u.telegram_username ? "@" + u.telegram_username : I18n.t("account.linked");
}

// The signed-in account: who it is, and Telegram sign-in (linked through Telegram's widget,
// which proves the Telegram account is the manager's own).
Views.account = async function (view) {
  const me = await api("GET", "/api/v1/admin/account");
  const status = el("p", { id: "account-telegram" }, me.telegram_linked
    ? I18n.t("account.telegram_on", { name: telegramName(me) })
    : I18n.t("account.telegram_off"));
  const card = el("div", { class: "card", id: "account-card" },
    el("p", {}, el("strong", {}, me.username), " · ", I18n.t("role." + me.role)),
    el("h2", {}, I18n.t("account.telegram")), status);
  let bot = null;
  try { bot = await api("GET", "/api/v1/admin/session/telegram"); } catch (_) { bot = null; }
  if (me.telegram_linked) {
    const unlink = el("button", { type: "button", class: "secondary", id: "telegram-unlink" }, I18n.t("account.unlink"));
    unlink.addEventListener("click", () =>
      submitChange(unlink, () => api("DELETE", "/api/v1/admin/account/telegram"), () => App.render()));
    card.append(unlink);
  } else if (bot) {
    const link = el("button", { type: "button", id: "telegram-link" }, I18n.t("account.link"));
    link.addEventListener("click", async () => {
      try {
        const fields = await telegramConfirm(bot.bot_id);
        if (fields) await Manage.linkTelegram(link, fields);
      } catch (e) {
        toast(errorText(e), true);
      }
    });
    card.append(el("p", { class: "muted" }, I18n.t("account.link_hint")), link);
  } else {
    card.append(el("p", { class: "muted" }, I18n.t("account.no_bot")));
  }
  view.append(el("h1", {}, I18n.t("account.title")), card);
};

// Links the Telegram account whose widget fields these are (a separate step, so tests can hand
// it fields signed for the test bot without telegram.org).
Manage.linkTelegram = function (button, fields) {
  return submitChange(button, () => api("PUT", "/api/v1/admin/account/telegram", fields), () => App.render());
};

// Raffles: members buy tickets with points until the end, or enter by what they did in a
// period (an activity rule, counted from the log at the draw); a manager then draws.
// The winners follow from a secret seed, whose SHA-256 (the commitment) is shown from the
// start, and the tickets: the seed is published at the draw, so anyone can check the result
// at the public proof. A cancelled raffle refunds every ticket.
const RAFFLE_STATUSES = ["open", "ended", "drawn", "cancelled"];

function raffleBadge(status) {
  const known = RAFFLE_STATUSES.includes(status);
  return el("span", { class: "badge raffle-" + (known ? status : "unknown"), "data-status": status },
    known ? I18n.t("raffle.status." + status) : status);
}

// A long hex value: its start and end, the whole on hover and in the copy button.
function shortHex(value) {
  return value && value.length > 20 ? value.slice(0, 10) + "…" + value.slice(-8) : value || "—";
}

function copyButton(value, shown, className) {
  return el("button", { type: "button", class: "secondary small " + (className || ""), title: value, onclick: async () => {
    try {
      await navigator.clipboard.writeText(value);
      toast(I18n.t("shop.copied"));
    } catch (_) {
      // No clipboard (a page not served over https): selected, for Ctrl+C.
      const range = document.createRange();
      range.selectNodeContents(shown);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    }
  } }, I18n.t("shop.copy"));
}

// The activity kinds a rule can ask for (domain::network::ActivityKind).
const RAFFLE_KINDS = ["comment", "mention", "reaction", "poll_vote", "repost", "message", "subscription", "codeword"];

function raffleForm() {
  let key = newKey();
  const local = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const input = (id, label, attrs) => el("label", {}, I18n.t(label), el("input", Object.assign({ id }, attrs)));
  const choice = (id, label, options) => el("label", {}, I18n.t(label), el("select", { id },
    options.map(([value, text]) => el("option", { value }, text))));
  const submit = el("button", { type: "submit", id: "raffle-submit" }, I18n.t("raffle.create"));
  const rule = choice("raffle-rule", "raffle.rule", [["tickets", I18n.t("raffle.rule.tickets")], ["activity", I18n.t("raffle.rule.activity")]]);
  const tickets = el("span", { class: "raffle-tickets-terms" },
    input("raffle-cost", "raffle.ticket_cost", { type: "number", min: 1, step: 1, required: true, size: 6 }),
    input("raffle-limit", "raffle.limit", { type: "number", min: 1, step: 1, required: true, size: 6, value: "1" }));
  const activity = el("span", { class: "raffle-activity-terms", hidden: true },
    choice("raffle-kind", "raffle.kind", [["", I18n.t("raffle.kind.any")]].concat(RAFFLE_KINDS.map((k) => [k, I18n.t("kind." + k)]))),
    choice("raffle-network", "raffle.network", [["", I18n.t("network.all")]].concat(["instagram", "vk", "telegram"].map((n) => [n, I18n.t("network." + n)]))),
    input("raffle-from", "raffle.from", { type: "datetime-local", value: local(new Date()) }));
  // Only the chosen rule's fields are shown and required.
  const showRule = () => {
    const byActivity = rule.querySelector("select").value === "activity";
    tickets.hidden = byActivity;
    activity.hidden = !byActivity;
    tickets.querySelectorAll("input").forEach((i) => { i.required = !byActivity; });
    document.getElementById("raffle-from").required = byActivity;
  };
  rule.querySelector("select").addEventListener("change", showRule);
  const form = el("form", { class: "inline", id: "raffle-form" },
    input("raffle-title", "raffle.title", { required: true, maxlength: 200 }),
    input("raffle-prize", "raffle.prize", { required: true, maxlength: 200 }),
    rule, tickets, activity,
    input("raffle-winners", "raffle.winners", { type: "number", min: 1, step: 1, required: true, size: 6, value: "1" }),
    input("raffle-ends", "raffle.ends", { type: "datetime-local", required: true,
      value: local(new Date(Date.now() + 7 * 86400000)) }),
    submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = (id) => document.getElementById(id).value.trim();
    const iso = (id) => { const d = new Date(v(id)); return isNaN(d.getTime()) ? v(id) : d.toISOString(); };
    const body = {
      title: v("raffle-title"), prize: v("raffle-prize"), winners: Number(v("raffle-winners")),
      ends_at: iso("raffle-ends"),
    };
    if (v("raffle-rule") === "activity") {
      body.entry_rule = { rule: "activity", kind: v("raffle-kind") || null, network: v("raffle-network") || null,
        from: iso("raffle-from") };
    } else {
      body.ticket_cost = Number(v("raffle-cost"));
      body.max_tickets_per_member = Number(v("raffle-limit"));
    }
    submitChange(submit, () => api("POST", programPath("/raffles"), body, key),
      (reply) => { key = newKey(); return raffleSettled(reply && reply.created_id, () => true); });
  });
  return el("div", { class: "card" }, el("h2", {}, I18n.t("raffle.new")),
    el("p", { class: "muted" }, I18n.t("raffle.form_hint")), form);
}

// "Members who commented on VK between … and the end", in the panel's language.
function raffleRuleText(r) {
  const rule = r.entry_rule || { rule: "tickets" };
  if (rule.rule !== "activity") return I18n.t("raffle.facts", { cost: fmtNum(r.ticket_cost),
    limit: fmtNum(r.max_tickets_per_member), winners: fmtNum(r.winners), ends: fmtTime(r.ends_at) });
  return I18n.t("raffle.facts_activity", {
    kind: rule.kind ? I18n.t("kind." + rule.kind) : I18n.t("raffle.kind.any"),
    network: rule.network ? I18n.t("network." + rule.network) : I18n.t("network.all"),
    from: fmtTime(rule.from), ends: fmtTime(r.ends_at), winners: fmtNum(r.winners),
  });
}

// The list is a read model: after a change, waits (a few seconds at most) until it shows the
// change, then draws the page again.
async function raffleSettled(raffleId, shows) {
  for (let i = 0; raffleId && i < 20; i += 1) {
    try {
      const { raffles } = await api("GET", programPath("/raffles"));
      const raffle = raffles.find((r) => r.raffle_id === raffleId);
      if (raffle && shows(raffle)) break;
    } catch (_) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return App.render();
}

function raffleWinners(r) {
  const list = el("ol", { class: "raffle-winners" }, r.winning_tickets.map((w) => el("li", { class: "raffle-winner" },
    el("a", { href: "#/members/" + encodeURIComponent(w.member_id) }, w.member_name || I18n.t("members.unnamed")),
    " ", el("span", { class: "mono muted", title: I18n.t("raffle.ticket") }, shortHex(w.entry_id)))));
  return r.winning_tickets.length ? list : el("p", { class: "muted" }, I18n.t("raffle.no_winners"));
}

function raffleCard(r) {
  const path = programPath("/raffles/" + encodeURIComponent(r.raffle_id));
  const commitment = el("code", { class: "mono raffle-commitment", title: r.commitment }, shortHex(r.commitment));
  const card = el("div", { class: "card raffle", "data-raffle-id": r.raffle_id, "data-status": r.status },
    el("h2", {}, el("span", { class: "raffle-title" }, r.title), " ", raffleBadge(r.status)),
    el("p", { class: "raffle-prize" }, el("strong", {}, I18n.t("raffle.prize") + ": "), r.prize),
    el("p", { class: "raffle-facts", "data-rule": (r.entry_rule && r.entry_rule.rule) || "tickets" }, raffleRuleText(r)),
    el("p", { class: "raffle-sales" }, r.entry_rule && r.entry_rule.rule === "activity"
      ? I18n.t(r.status === "drawn" ? "raffle.entrants" : "raffle.entrants_at_draw", { members: fmtNum(r.members) })
      : I18n.t("raffle.sales", { tickets: fmtNum(r.tickets), members: fmtNum(r.members) })),
    el("p", { class: "raffle-commitment-line muted" }, I18n.t("raffle.commitment") + " ", commitment, " ",
      copyButton(r.commitment, commitment, "copy-commitment")));
  if (r.status === "drawn") {
    const seed = el("code", { class: "mono raffle-seed" }, r.seed || "—");
    card.append(el("div", { class: "raffle-draw" },
      el("p", {}, el("strong", {}, r.drawn_at ? I18n.t("raffle.drawn_at", { when: fmtTime(r.drawn_at) }) : I18n.t("raffle.drawn"))),
      el("p", { class: "raffle-seed-line" }, I18n.t("raffle.seed") + " ", seed),
      el("strong", {}, I18n.t("raffle.winners_title")), raffleWinners(r),
      el("p", {}, el("a", { class: "raffle-proof", href: "/raffles/" + encodeURIComponent(r.raffle_id),
        target: "_blank", rel: "noopener" }, I18n.t("raffle.proof")), " ",
      el("span", { class: "muted" }, I18n.t("raffle.proof_hint")))));
  }
  if (r.status === "cancelled") {
    card.append(el("p", { class: "raffle-cancelled" }, I18n.t("raffle.cancelled_note", { reason: r.cancel_reason || "—" })));
  }
  const byActivity = Boolean(r.entry_rule && r.entry_rule.rule === "activity");
  if (can("manage") && (r.status === "open" || r.status === "ended")) {
    const actions = el("p", { class: "raffle-actions" });
    if (r.status === "ended") {
      actions.append(el("button", { type: "button", class: "raffle-draw-button", "data-action": "draw", onclick: async (e) => {
        const button = e.target;
        if (!await Manage.confirm(I18n.t("raffle.draw_title", { title: r.title }),
          I18n.t(byActivity ? "raffle.draw_consequence_activity" : "raffle.draw_consequence",
            { tickets: fmtNum(r.tickets), winners: fmtNum(r.winners) }),
          I18n.t("raffle.draw"))) return;
        submitChange(button, () => api("POST", path + "/draw", undefined, newKey()),
          () => raffleSettled(r.raffle_id, (x) => x.status === "drawn"));
      } }, I18n.t("raffle.draw")), " ");
    } else {
      actions.append(el("span", { class: "muted" }, I18n.t("raffle.draw_later", { ends: fmtTime(r.ends_at) })), " ");
    }
    actions.append(el("button", { type: "button", class: "danger raffle-cancel-button", "data-action": "cancel", onclick: () =>
      Manage.askReason(I18n.t("raffle.cancel_title", { title: r.title }),
        (reason, key) => api("POST", path + "/cancel", { reason }, key),
        (reply) => {
          if (reply && typeof reply.refunded === "number") toast(I18n.t("raffle.refunded", { n: fmtNum(reply.refunded) }));
          return raffleSettled(r.raffle_id, (x) => x.status === "cancelled");
        }, false, I18n.t(byActivity ? "raffle.cancel_consequence_activity" : "raffle.cancel_consequence",
          { tickets: fmtNum(r.tickets) })) },
    I18n.t("raffle.cancel")));
    card.append(actions);
  }
  return card;
}

Views.raffles = async function (view) {
  const { raffles } = await api("GET", programPath("/raffles"));
  view.append(el("h1", {}, I18n.t("nav.raffles")), el("p", { class: "muted" }, I18n.t("raffle.intro")));
  if (can("manage")) view.append(raffleForm());
  view.append(el("div", { id: "raffle-list" }, raffles.length
    ? raffles.map(raffleCard) : el("p", { class: "muted" }, I18n.t("common.empty"))));
};
