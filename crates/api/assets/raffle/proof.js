// The public check of a raffle: fetch the proof, then recompute in this browser what the
// server claims: SHA-256(seed) is the commitment, and the published algorithm over the
// tickets gives the winning tickets. Nothing here trusts the server's own `verified`.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const bytes = (hex) => new Uint8Array(hex.match(/../g).map((b) => parseInt(b, 16)));
  const hex = (buffer) => Array.from(new Uint8Array(buffer)).map((b) => b.toString(16).padStart(2, '0')).join('');
  const u64be = (n) => {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(n));
    return out;
  };
  const sha256 = (...parts) => {
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.length; }
    return crypto.subtle.digest('SHA-256', all);
  };
  const MAX = (1n << 64n) - 1n;

  // A number in 0..n from the seed and a counter, without modulo bias.
  async function uniform(seed, counter, n) {
    const big = BigInt(n);
    const limit = MAX - (MAX % big);
    for (let k = 0; ; k++) {
      const digest = await sha256(seed, u64be(counter), u64be(k));
      const x = new DataView(digest).getBigUint64(0);
      if (x < limit) return Number(x % big);
    }
  }

  async function winners(seed, holders, count) {
    const order = holders.map((_, i) => i);
    const won = new Set();
    const out = [];
    for (let i = 0; i < order.length && out.length < count; i++) {
      const j = i + await uniform(seed, i, order.length - i);
      [order[i], order[j]] = [order[j], order[i]];
      if (!won.has(holders[order[i]])) { won.add(holders[order[i]]); out.push(order[i]); }
    }
    return out;
  }

  const KINDS = {
    comment: 'комментарий · a comment', mention: 'упоминание · a mention', reaction: 'реакция · a reaction',
    poll_vote: 'голос в опросе · a poll vote', repost: 'репост · a repost', message: 'сообщение · a message',
    subscription: 'подписка · a subscription', codeword: 'кодовое слово · a codeword',
  };
  const NETWORKS = { instagram: 'Instagram', vk: 'ВКонтакте · VK', telegram: 'Telegram' };

  // The entry rule in words: tickets, or who did what where between the start and the end.
  function ruleText(proof) {
    const rule = proof.entry_rule || { rule: 'tickets' };
    if (rule.rule !== 'activity') return 'Билеты за баллы · Tickets bought with points';
    const kind = rule.kind ? (KINDS[rule.kind] || rule.kind) : 'любое действие за баллы · any points-earning activity';
    const network = rule.network ? (NETWORKS[rule.network] || rule.network) : 'любая сеть · any network';
    const when = new Date(rule.from).toISOString() + ' — ' + (proof.ends_at ? new Date(proof.ends_at).toISOString() : '…');
    return 'Каждый, у кого за период есть · everyone with, in the period: ' + kind + ' (' + network + '), ' + when +
      '; один раз на участника, удалённое до конца не считается · once per member, activity undone before the end does not count';
  }

  function verdict(state, text) {
    $('verdict').dataset.state = state;
    $('verdict').textContent = text;
  }

  async function check() {
    const id = location.pathname.split('/').filter(Boolean).pop();
    const answer = await fetch('/api/v1/raffles/' + encodeURIComponent(id) + '/proof');
    if (!answer.ok) return verdict('bad', 'Розыгрыш не найден · No such raffle');
    const proof = await answer.json();
    $('title').textContent = proof.title;
    $('commitment').textContent = proof.commitment;
    $('seed').textContent = proof.seed || '—';
    $('rule').textContent = ruleText(proof);
    $('tickets').textContent = String(proof.tickets.length);
    $('algorithm').textContent = proof.algorithm;
    for (const w of proof.winners) $('winners').appendChild(Object.assign(document.createElement('li'), { textContent: w }));
    if (!proof.seed) return verdict('pending', 'Ещё не разыгран: зерно откроют при розыгрыше · Not drawn yet: the seed is revealed at the draw');
    const seed = bytes(proof.seed);
    const committed = hex(await sha256(seed)) === proof.commitment;
    const picked = await winners(seed, proof.holders, proof.winners_wanted);
    const same = picked.length === proof.winners.length && picked.every((t, n) => proof.tickets[t] === proof.winners[n]);
    if (committed && same) {
      verdict('ok', '✓ Проверено в вашем браузере: зерно соответствует обязательству, победители следуют из зерна и билетов · Checked in your browser');
    } else {
      verdict('bad', '✗ Не сходится: ' + (committed ? 'победители не следуют из зерна' : 'зерно не соответствует обязательству') + ' · Does not check out');
    }
  }

  check().catch((e) => verdict('bad', String(e)));
})();
