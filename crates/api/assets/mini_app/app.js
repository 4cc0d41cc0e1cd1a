// The Mini App page. Plain JS, no build step. Rules kept throughout:
// - every string that comes from the server or the user is inserted with textContent
//   (the `el` helper below); nothing here ever assigns innerHTML;
// - initData is sent as `Authorization: tma <initData>` on every API call, as Telegram signed it;
// - Telegram's WebApp script is optional: inside Telegram it gives the theme, ready() and
//   expand(); without it the page reads #tgWebAppData itself, or offers the development
//   sign-in when the server says it is on.
(function () {
  'use strict';

  const API = '/api/v1/app/';

  const I18N = {
    ru: {
      appTitle: 'Бонусная программа',
      hello: 'Привет, {name}!',
      loading: 'Загрузка…',
      balance: 'Баланс',
      earned: 'Заработано',
      spent: 'Потрачено',
      blocked: 'Участие в программе приостановлено: обмен баллов недоступен.',
      rankAll: 'Место за всё время',
      rankWeek: 'Место за неделю',
      noRank: 'пока нет',
      history: 'История',
      historyEmpty: 'Пока пусто. Комментируйте и отмечайте бренд в соцсетях — баллы появятся здесь.',
      more: 'Показать ещё',
      tabHome: 'Главная',
      tabTop: 'Рейтинг',
      tabEarn: 'Заработать',
      tabRewards: 'Награды',
      tabAccounts: 'Аккаунты',
      periodAll: 'Всё время',
      periodWeek: 'Неделя',
      periodMonth: 'Месяц',
      boardEmpty: 'В этом рейтинге пока никого нет.',
      you: 'это вы',
      member: 'Участник',
      yourPlace: 'Ваше место',
      notOnBoard: 'Вас пока нет в этом рейтинге: заработайте первые баллы.',
      campaigns: 'Акции',
      campaignsEmpty: 'Сейчас акций нет. Загляните позже!',
      until: 'до {date}',
      placesLeft: 'осталось мест: {n}',
      noPlacesLeft: 'мест не осталось',
      campaignDone: 'баллы получены',
      ways: 'За что начисляются баллы',
      rewardsEmpty: 'Наград пока нет.',
      inStock: 'в наличии: {n}',
      outOfStock: 'нет в наличии',
      redeem: 'Обменять',
      confirmRedeem: 'Потратить {cost} на «{title}»?',
      yes: 'Да, обменять',
      cancel: 'Отмена',
      notEnough: 'не хватает {n}',
      couponTitle: 'Ваш купон',
      couponHint: 'Покажите этот код на кассе или введите его при заказе.',
      myCoupons: 'Мои купоны',
      couponsEmpty: 'Купонов пока нет.',
      cancelled: 'отменён',
      accounts: 'Привязанные аккаунты',
      yourData: 'Ваши данные',
      yourDataIntro: 'Можно скачать всё, что программа хранит о вас, или удалить ваши данные.',
      exportData: 'Скачать мои данные',
      eraseData: 'Удалить мои данные',
      eraseWarning: 'Мы удалим привязку ваших аккаунтов, имена и переписку с ботом. Баллы и купоны будут потеряны: история начислений останется в учёте анонимной. Отменить нельзя.',
      eraseYes: 'Да, удалить',
      eraseNo: 'Отмена',
      erasedDone: 'Ваши данные удалены. Если вы снова откроете приложение, вы начнёте программу заново.',
      unlink: 'Отвязать',
      confirmUnlink: 'Отвязать?',
      signedIn: 'вы вошли через него',
      subscriptions: 'Подписки',
      status_subscribed: 'подписаны',
      status_left: 'отписались',
      status_not_seen: 'не найдена',
      status_unverifiable: 'не проверить',
      linkTitle: 'Привязать аккаунт',
      linkIntro: 'Баллы за активность начисляются на привязанные аккаунты. Получите одноразовый код и опубликуйте его с нужного аккаунта.',
      linkInstagram: 'Instagram по коду',
      linkVk: 'ВКонтакте по коду',
      linkVkId: 'ВКонтакте через VK ID',
      yourCode: 'Ваш код',
      copy: 'Скопировать',
      copied: 'Скопировано',
      cancelCode: 'Отменить код',
      codeExpires: 'Действует до {time}',
      code_pending: 'Ждём комментарий с кодом…',
      code_used: 'Код получен — аккаунт привязан.',
      code_expired: 'Срок действия кода истёк. Получите новый.',
      code_cancelled: 'Код отменён.',
      vkIdOpened: 'Подтвердите вход во ВКонтакте в открывшемся окне, затем вернитесь сюда и обновите страницу.',
      method_telegram: 'через Telegram',
      method_code: 'по коду',
      method_oauth: 'через VK ID',
      method_manager: 'менеджером',
      method_observed: 'найден по активности',
      errorTitle: 'Не получилось',
      authError: 'Не удалось подтвердить, что это вы: данные входа от Telegram неверны или устарели. Закройте приложение и откройте его снова из бота.',
      openInTelegram: 'Откройте это приложение из Telegram-бота бренда.',
      networkError: 'Нет связи с сервером. Проверьте интернет и попробуйте ещё раз.',
      notConfigured: 'Приложение ещё не настроено на сервере.',
      retry: 'Повторить',
      devTitle: 'Вход для разработки',
      devHint: 'Сервер разрешает вход без Telegram: данные входа для выдуманного пользователя подпишет сервер. Только для разработки.',
      devUserId: 'ID пользователя Telegram',
      devFirstName: 'Имя',
      devUsername: 'Имя пользователя (необязательно)',
      devSubmit: 'Войти',
      err_insufficient_balance: 'Недостаточно баллов.',
      err_reward_out_of_stock: 'Эта награда закончилась.',
      err_reward_not_available: 'Эта награда больше недоступна.',
      err_member_blocked: 'Участие в программе приостановлено.',
      err_too_many_codes: 'У вас уже много неиспользованных кодов: используйте или отмените один из них.',
      err_identity_already_claimed: 'Этот аккаунт привязан к другому участнику.',
      err_busy: 'Сервер занят, попробуйте ещё раз.',
      net_instagram: 'Instagram',
      net_vk: 'ВКонтакте',
      net_telegram: 'Telegram',
    },
    en: {
      appTitle: 'Loyalty program',
      hello: 'Hi, {name}!',
      loading: 'Loading…',
      balance: 'Balance',
      earned: 'Earned',
      spent: 'Spent',
      blocked: 'Your membership is suspended: redeeming is unavailable.',
      rankAll: 'All-time rank',
      rankWeek: 'This week',
      noRank: 'not yet',
      history: 'History',
      historyEmpty: 'Nothing yet. Comment on and mention the brand on social networks: your points will show up here.',
      more: 'Show more',
      tabHome: 'Home',
      tabTop: 'Ranking',
      tabEarn: 'Earn',
      tabRewards: 'Rewards',
      tabAccounts: 'Accounts',
      periodAll: 'All time',
      periodWeek: 'Week',
      periodMonth: 'Month',
      boardEmpty: 'Nobody is on this board yet.',
      you: 'you',
      member: 'Member',
      yourPlace: 'Your place',
      notOnBoard: 'You are not on this board yet: earn your first points.',
      campaigns: 'Campaigns',
      campaignsEmpty: 'No campaigns right now. Check back soon!',
      until: 'until {date}',
      placesLeft: '{n} places left',
      noPlacesLeft: 'no places left',
      campaignDone: 'points received',
      ways: 'What earns points',
      rewardsEmpty: 'No rewards yet.',
      inStock: '{n} in stock',
      outOfStock: 'out of stock',
      redeem: 'Redeem',
      confirmRedeem: 'Spend {cost} on “{title}”?',
      yes: 'Yes, redeem',
      cancel: 'Cancel',
      notEnough: '{n} more needed',
      couponTitle: 'Your coupon',
      couponHint: 'Show this code at the till or enter it when you order.',
      myCoupons: 'My coupons',
      couponsEmpty: 'No coupons yet.',
      cancelled: 'cancelled',
      accounts: 'Linked accounts',
      yourData: 'Your data',
      yourDataIntro: 'Download everything the program holds about you, or delete your data.',
      exportData: 'Download my data',
      eraseData: 'Delete my data',
      eraseWarning: 'We will delete the link to your accounts, your names and your chat with the bot. Your points and coupons are lost: the ledger keeps their history anonymously. This cannot be undone.',
      eraseYes: 'Yes, delete',
      eraseNo: 'Cancel',
      erasedDone: 'Your data has been deleted. If you open the app again, you start the program anew.',
      unlink: 'Unlink',
      confirmUnlink: 'Unlink?',
      signedIn: 'you are signed in with it',
      subscriptions: 'Subscriptions',
      status_subscribed: 'subscribed',
      status_left: 'left',
      status_not_seen: 'not seen',
      status_unverifiable: 'cannot be checked',
      linkTitle: 'Link an account',
      linkIntro: 'Activity earns points for linked accounts. Get a one-time code and post it from the account you want to link.',
      linkInstagram: 'Instagram by code',
      linkVk: 'VK by code',
      linkVkId: 'VK with VK ID',
      yourCode: 'Your code',
      copy: 'Copy',
      copied: 'Copied',
      cancelCode: 'Cancel code',
      codeExpires: 'Valid until {time}',
      code_pending: 'Waiting for the comment with the code…',
      code_used: 'Code received: the account is linked.',
      code_expired: 'The code has expired. Get a new one.',
      code_cancelled: 'The code was cancelled.',
      vkIdOpened: 'Confirm the sign-in to VK in the window that opened, then come back here and refresh.',
      method_telegram: 'via Telegram',
      method_code: 'by code',
      method_oauth: 'via VK ID',
      method_manager: 'by a manager',
      method_observed: 'found by activity',
      errorTitle: 'Something went wrong',
      authError: 'We could not confirm it is you: the sign-in data from Telegram is invalid or has expired. Close the app and open it again from the bot.',
      openInTelegram: 'Open this app from the brand’s Telegram bot.',
      networkError: 'Cannot reach the server. Check your connection and try again.',
      notConfigured: 'The app is not configured on the server yet.',
      retry: 'Try again',
      devTitle: 'Development sign-in',
      devHint: 'This server allows signing in without Telegram: it signs sign-in data for a made-up user. For development only.',
      devUserId: 'Telegram user id',
      devFirstName: 'First name',
      devUsername: 'Username (optional)',
      devSubmit: 'Sign in',
      err_insufficient_balance: 'Not enough points.',
      err_reward_out_of_stock: 'This reward has run out.',
      err_reward_not_available: 'This reward is no longer available.',
      err_member_blocked: 'Your membership is suspended.',
      err_too_many_codes: 'You already have several unused codes: use or cancel one of them.',
      err_identity_already_claimed: 'This account is linked to another member.',
      err_busy: 'The server is busy, try again.',
      net_instagram: 'Instagram',
      net_vk: 'VK',
      net_telegram: 'Telegram',
    },
  };

  const state = {
    lang: 'en',
    initData: '',
    config: null,
    me: null,
    historyCursor: null,
    period: 'all',
    linkPoll: null,
    // Redemptions the server confirmed that the rewards read model may not show yet.
    fresh: [],
  };

  // ---------- small helpers ----------

  const $ = (id) => document.getElementById(id);

  function t(key, vars) {
    const dict = I18N[state.lang] || I18N.en;
    let text = dict[key] !== undefined ? dict[key] : I18N.en[key] !== undefined ? I18N.en[key] : key;
    if (vars) {
      for (const [k, v] of Object.entries(vars)) text = text.split('{' + k + '}').join(String(v));
    }
    return text;
  }

  /** Builds an element; `text` always goes in as textContent, never as markup. */
  function el(tag, props, children) {
    const node = document.createElement(tag);
    const p = props || {};
    if (p.className) node.className = p.className;
    if (p.text !== undefined && p.text !== null) node.textContent = String(p.text);
    if (p.attrs) for (const [k, v] of Object.entries(p.attrs)) node.setAttribute(k, String(v));
    if (p.onClick) node.addEventListener('click', p.onClick);
    for (const child of children || []) if (child) node.appendChild(child);
    return node;
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  function clear(node) {
    node.replaceChildren();
  }

  function plural(n, en1, enMany, ru1, ru2, ru5) {
    if (state.lang !== 'ru') return Math.abs(n) === 1 ? en1 : enMany;
    const a = Math.abs(n) % 100;
    const b = a % 10;
    if (a > 10 && a < 20) return ru5;
    if (b === 1) return ru1;
    if (b >= 2 && b <= 4) return ru2;
    return ru5;
  }

  const locale = () => (state.lang === 'ru' ? 'ru-RU' : 'en-GB');
  const number = (n) => new Intl.NumberFormat(locale()).format(n);
  const pointsWord = (n) => plural(n, 'point', 'points', 'балл', 'балла', 'баллов');
  const points = (n) => number(n) + ' ' + pointsWord(n);
  const signed = (n) => (n > 0 ? '+' : n < 0 ? '−' : '') + number(Math.abs(n));
  function date(iso, withTime) {
    const when = new Date(iso);
    const options = withTime
      ? { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }
      : { day: 'numeric', month: 'long' };
    if (when.getFullYear() !== new Date().getFullYear()) options.year = 'numeric';
    return when.toLocaleString(locale(), options);
  }
  const networkName = (n) => t('net_' + n);

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // ---------- Telegram, theme, language ----------

  const telegram = () => (window.Telegram && window.Telegram.WebApp) || null;

  function hashParams() {
    return new URLSearchParams(window.location.hash.slice(1));
  }

  /** initData as Telegram hands it: the WebApp object, else the #tgWebAppData Telegram appends. */
  function findInitData() {
    const tg = telegram();
    if (tg && tg.initData) return tg.initData;
    const fromHash = hashParams().get('tgWebAppData');
    if (fromHash) return fromHash;
    try {
      return window.sessionStorage.getItem('devInitData') || '';
    } catch (e) {
      return '';
    }
  }

  function userOf(initData) {
    try {
      return JSON.parse(new URLSearchParams(initData).get('user') || 'null');
    } catch (e) {
      return null;
    }
  }

  // The server's rule (app::Language::from_code): Russian for a missing code and for the
  // languages whose speakers commonly read Russian, English for any other code.
  const READ_RUSSIAN = ['ru', 'be', 'uk', 'kk', 'ky', 'tg', 'uz'];
  function chooseLanguage(user) {
    const code = ((user && user.language_code) || '').trim().toLowerCase();
    const primary = code.split(/[-_]/)[0];
    return !primary || READ_RUSSIAN.includes(primary) ? 'ru' : 'en';
  }

  function applyTheme(params) {
    if (!params) return;
    const root = document.documentElement.style;
    for (const [key, value] of Object.entries(params)) {
      if (typeof value === 'string' && /^#[0-9a-fA-F]{3,8}$/.test(value)) {
        root.setProperty('--tg-' + key.replace(/_/g, '-'), value);
      }
    }
  }

  function themeFromHash() {
    try {
      return JSON.parse(hashParams().get('tgWebAppThemeParams') || 'null');
    } catch (e) {
      return null;
    }
  }

  function setViewport(tg) {
    const height = tg.viewportStableHeight || tg.viewportHeight;
    if (height) document.documentElement.style.setProperty('--viewport-height', height + 'px');
  }

  /** Wires Telegram's API in whenever its script arrives, if it ever does. */
  function withTelegram(callback) {
    if (telegram()) return callback(telegram());
    const script = document.getElementById('tg-script');
    if (script) script.addEventListener('load', () => telegram() && callback(telegram()));
  }

  function translatePage() {
    document.documentElement.lang = state.lang;
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    document.title = t('appTitle');
  }

  // ---------- the API ----------

  class ApiFailure extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body, headers) {
    const all = Object.assign({ 'Accept-Language': state.lang }, headers || {});
    if (state.initData) all.Authorization = 'tma ' + state.initData;
    if (body !== undefined) all['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(API + path, {
        method,
        headers: all,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiFailure(0, 'network', t('networkError'));
    }
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      const error = data && data.error;
      throw new ApiFailure(
        response.status,
        error ? error.code : 'http_' + response.status,
        error ? error.message : response.statusText,
      );
    }
    return data;
  }

  /** A failure in the member's language where we know the code, else the server's words. */
  function explain(failure) {
    const key = 'err_' + failure.code;
    return I18N.en[key] ? t(key) : failure.message;
  }

  // ---------- screens ----------

  function showLoading() {
    show($('loading'), true);
    show($('error'), false);
  }

  function showError(failure) {
    show($('loading'), false);
    show($('main'), false);
    show($('tabs'), false);
    let text;
    if (failure.status === 401) text = t('authError');
    else if (failure.code === 'network') text = t('networkError');
    else if (failure.code === 'not_configured') text = t('notConfigured');
    else if (failure.code === 'outside_telegram') text = t('openInTelegram');
    else text = explain(failure);
    $('error-text').textContent = text;
    $('error-detail').textContent = failure.status === 401 ? failure.message : '';
    show($('retry'), failure.status !== 401 && failure.code !== 'outside_telegram');
    show($('error'), true);
  }

  function selectTab(name) {
    for (const section of document.querySelectorAll('main .tab')) show(section, section.dataset.tab === name);
    for (const button of document.querySelectorAll('#tabs button')) {
      button.classList.toggle('active', button.dataset.tab === name);
    }
    window.scrollTo(0, 0);
  }

  // ---------- home: balance, rank, history ----------

  function renderMe(me) {
    state.me = me;
    $('hello').textContent = t('hello', { name: me.first_name });
    setBalance(me.balance.current);
    $('earned').textContent = number(me.balance.earned);
    $('spent').textContent = number(me.balance.spent);
    show($('blocked'), me.blocked);
    $('rank-all').textContent = me.rank.all_time ? '#' + me.rank.all_time.rank : t('noRank');
    $('rank-week').textContent = me.rank.week ? '#' + me.rank.week.rank : t('noRank');
    renderAccounts(me);
  }

  function setBalance(current) {
    if (state.me) state.me.balance.current = current;
    $('balance').textContent = number(current);
    $('balance-unit').textContent = pointsWord(current);
  }

  async function loadHistory(append) {
    const query = 'history?limit=20' + (append && state.historyCursor ? '&cursor=' + state.historyCursor : '');
    const page = await api('GET', query);
    const list = $('history');
    if (!append) clear(list);
    for (const entry of page.entries) {
      const delta = entry.points
        ? el('span', { className: 'delta ' + (entry.points > 0 ? 'plus' : 'minus'), text: signed(entry.points) })
        : null;
      list.appendChild(
        el('li', { attrs: { 'data-type': entry.type } }, [
          el('div', { className: 'grow' }, [
            el('div', { text: entry.text }),
            el('div', { className: 'meta', text: date(entry.at, true) }),
          ]),
          delta,
        ]),
      );
    }
    state.historyCursor = page.next_cursor;
    show($('history-empty'), list.children.length === 0);
    show($('history-more'), page.next_cursor !== null && page.next_cursor !== undefined);
  }

  // ---------- leaderboard ----------

  function standingRow(standing) {
    const name = el('span', { className: 'name', text: standing.name || t('member') });
    if (standing.me) name.appendChild(el('span', { className: 'you', text: '(' + t('you') + ')' }));
    return el('li', { className: standing.me ? 'me' : '' }, [
      el('span', { className: 'place', text: '#' + standing.rank }),
      name,
      el('span', { className: 'score', text: number(standing.score) }),
    ]);
  }

  async function loadLeaderboard() {
    const board = await api('GET', 'leaderboard?limit=20&period=' + state.period);
    const list = $('leaderboard');
    clear(list);
    for (const standing of board.entries) list.appendChild(standingRow(standing));
    show($('leaderboard-empty'), board.entries.length === 0);
    const meListed = board.entries.some((s) => s.me);
    clear($('my-place-row'));
    if (board.me && !meListed) $('my-place-row').appendChild(standingRow(board.me));
    show($('my-place'), Boolean(board.me) && !meListed);
    show($('not-on-board'), !board.me && board.entries.length > 0);
  }

  // ---------- earn ----------

  async function loadCampaigns() {
    const view = await api('GET', 'campaigns');
    const list = $('campaigns');
    clear(list);
    for (const c of view.campaigns) {
      const badges = [el('span', { className: 'badge', text: t('until', { date: date(c.ends_at, false) }) })];
      if (c.remaining !== null && c.remaining !== undefined) {
        badges.push(el('span', {
          className: 'badge',
          text: c.remaining > 0 ? t('placesLeft', { n: number(c.remaining) }) : t('noPlacesLeft'),
        }));
      }
      if (c.done) badges.push(el('span', { className: 'badge done', text: t('campaignDone') }));
      list.appendChild(
        el('li', { className: 'campaign' }, [
          el('div', { className: 'grow' }, [
            el('div', { className: 'title', text: c.name }),
            el('div', { className: 'meta', text: c.networks.map(networkName).join(' · ') }),
            el('div', { text: c.how_to }),
            el('div', { className: 'row' }, badges),
          ]),
          el('span', { className: 'delta plus', text: '+' + number(c.points) }),
        ]),
      );
    }
    show($('campaigns-empty'), view.campaigns.length === 0);
    // One line per network: "Комментарий +10 · Репост +20 · …".
    const ways = $('ways');
    clear(ways);
    const byNetwork = new Map();
    for (const way of view.ways_to_earn) {
      if (!byNetwork.has(way.network)) byNetwork.set(way.network, []);
      byNetwork.get(way.network).push(way.text + ' +' + number(way.points));
    }
    for (const [network, items] of byNetwork) {
      ways.appendChild(
        el('li', { attrs: { 'data-network': network } }, [
          el('div', { className: 'grow' }, [
            el('div', { className: 'title', text: networkName(network) }),
            el('div', { className: 'meta', text: items.join(' · ') }),
          ]),
        ]),
      );
    }
  }

  // ---------- rewards ----------

  function rewardItem(reward) {
    const balance = state.me ? state.me.balance.current : 0;
    const short = reward.cost - balance;
    // One key per rendering of the button: a double tap sends the same key and pays once.
    const key = newKey();
    const actions = el('div', { className: 'actions' });
    const redeem = el('button', {
      className: 'button small redeem',
      text: t('redeem'),
      attrs: { type: 'button' },
    });
    redeem.disabled = reward.stock <= 0 || short > 0 || (state.me && state.me.blocked);
    actions.appendChild(redeem);
    if (reward.stock <= 0) actions.appendChild(el('span', { className: 'meta', text: t('outOfStock') }));
    else if (short > 0) actions.appendChild(el('span', { className: 'meta', text: t('notEnough', { n: points(short) }) }));
    redeem.addEventListener('click', () => {
      redeem.hidden = true;
      const yes = el('button', { className: 'button small confirm-yes', text: t('yes'), attrs: { type: 'button' } });
      const no = el('button', { className: 'button small secondary confirm-no', text: t('cancel'), attrs: { type: 'button' } });
      const confirm = el('div', { className: 'confirm' }, [
        el('span', { className: 'meta', text: t('confirmRedeem', { cost: points(reward.cost), title: reward.title }) }),
        yes,
        no,
      ]);
      no.addEventListener('click', () => {
        confirm.remove();
        redeem.hidden = false;
      });
      yes.addEventListener('click', () => redeemReward(reward, key, yes));
      actions.appendChild(confirm);
    });
    return el('li', { className: 'reward', attrs: { 'data-reward-id': reward.reward_id } }, [
      el('div', { className: 'grow' }, [
        el('div', { className: 'title', text: reward.title }),
        el('div', { className: 'meta', text: points(reward.cost) + ' · ' + (reward.stock > 0 ? t('inStock', { n: number(reward.stock) }) : t('outOfStock')) }),
      ]),
      actions,
    ]);
  }

  async function redeemReward(reward, key, button) {
    button.disabled = true;
    show($('rewards-error'), false);
    try {
      const result = await api('POST', 'rewards/' + reward.reward_id + '/redeem', { idempotency_key: key }, { 'Idempotency-Key': key });
      setBalance(result.balance);
      if (!result.repeated) state.fresh.push(result);
      $('coupon-title').textContent = result.title;
      $('coupon-code').textContent = result.coupon_code;
      show($('coupon'), true);
      const tg = telegram();
      if (tg && tg.HapticFeedback) tg.HapticFeedback.notificationOccurred('success');
      window.scrollTo(0, 0);
      await Promise.all([loadRewards(), loadHistory(false)]);
    } catch (failure) {
      button.disabled = false;
      $('rewards-error').textContent = explain(failure);
      show($('rewards-error'), true);
    }
  }

  async function loadRewards() {
    const view = await api('GET', 'rewards');
    // The read model lags the redemption by a moment: what it lacks, add from our own answers.
    const known = new Set(view.coupons.map((c) => c.redemption_id));
    state.fresh = state.fresh.filter((r) => !known.has(r.redemption_id));
    const list = $('rewards');
    clear(list);
    for (const reward of view.rewards) {
      const unseen = state.fresh.filter((r) => r.reward_id === reward.reward_id).length;
      list.appendChild(rewardItem(Object.assign({}, reward, { stock: reward.stock - unseen })));
    }
    show($('rewards-empty'), view.rewards.length === 0);
    const fresh = state.fresh.map((r) => ({
      redemption_id: r.redemption_id,
      title: r.title,
      coupon_code: r.coupon_code,
      redeemed_at: r.redeemed_at,
      cancelled: false,
    }));
    const coupons = $('coupons');
    clear(coupons);
    for (const c of fresh.reverse().concat(view.coupons)) {
      coupons.appendChild(
        el('li', { className: c.cancelled ? 'cancelled' : '' }, [
          el('div', { className: 'grow' }, [
            el('div', { className: 'title', text: c.title }),
            el('div', { className: 'meta', text: date(c.redeemed_at, true) + (c.cancelled ? ' · ' + t('cancelled') : '') }),
          ]),
          el('span', { className: 'code-small', text: c.coupon_code }),
        ]),
      );
    }
    show($('coupons-empty'), coupons.children.length === 0);
  }

  // ---------- accounts and linking ----------

  function renderAccounts(me) {
    const list = $('accounts');
    clear(list);
    for (const account of me.accounts) {
      const who = account.username ? '@' + account.username : account.display_name || account.external_id;
      const meta = [networkName(account.network)];
      if (account.method) meta.push(t('method_' + account.method));
      if (!account.can_unlink) meta.push(t('signedIn'));
      const actions = el('div', { className: 'actions' });
      if (account.can_unlink) {
        const unlink = el('button', { className: 'button small danger unlink', text: t('unlink'), attrs: { type: 'button' } });
        unlink.addEventListener('click', () => {
          if (unlink.dataset.armed) return unlinkAccount(account, unlink);
          unlink.dataset.armed = '1';
          unlink.textContent = t('confirmUnlink');
        });
        actions.appendChild(unlink);
      }
      list.appendChild(
        el('li', { attrs: { 'data-network': account.network } }, [
          el('div', { className: 'grow' }, [
            el('div', { className: 'title', text: who }),
            el('div', { className: 'meta', text: meta.join(' · ') }),
          ]),
          actions,
        ]),
      );
    }
    const subs = $('subscriptions');
    clear(subs);
    for (const s of me.subscriptions) {
      subs.appendChild(
        el('li', { attrs: { 'data-network': s.network } }, [
          el('div', { className: 'grow' }, [
            el('div', { className: 'title', text: networkName(s.network) }),
            el('div', { className: 'meta', text: s.note }),
          ]),
          el('span', { className: 'badge ' + s.status, text: t('status_' + s.status) }),
        ]),
      );
    }
  }

  async function unlinkAccount(account, button) {
    button.disabled = true;
    try {
      await api('DELETE', 'accounts/' + encodeURIComponent(account.network) + '/' + encodeURIComponent(account.external_id));
      renderMe(await api('GET', 'me'));
    } catch (failure) {
      button.disabled = false;
      $('link-error').textContent = explain(failure);
      show($('link-error'), true);
    }
  }

  // ---------- the member's own data ----------

  async function exportData() {
    show($('data-error'), false);
    try {
      const data = await api('GET', 'me/export');
      const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
      const link = el('a', { attrs: { href: URL.createObjectURL(blob), download: 'my-data.json' } });
      document.body.appendChild(link);
      link.click();
      link.remove();
      URL.revokeObjectURL(link.href);
    } catch (failure) {
      $('data-error').textContent = explain(failure);
      show($('data-error'), true);
    }
  }

  async function eraseData() {
    $('erase-yes').disabled = true;
    try {
      await api('POST', 'me/erasure', { confirm: true });
      show($('erase-confirm'), false);
      show($('main'), false);
      show($('tabs'), false);
      const done = $('erased');
      document.getElementById('app').appendChild(done);
      show(done, true);
    } catch (failure) {
      $('erase-yes').disabled = false;
      $('data-error').textContent = explain(failure);
      show($('data-error'), true);
    }
  }

  function renderLinkCode(link) {
    $('link-code-value').textContent = link.code;
    const steps = $('link-steps');
    clear(steps);
    for (const step of link.instructions[state.lang] || link.instructions.en) steps.appendChild(el('li', { text: step }));
    $('link-expires').textContent = t('codeExpires', { time: date(link.expires_at, true) });
    $('link-status').textContent = t('code_' + link.status);
    $('link-status').dataset.status = link.status;
    show($('link-cancel'), link.status === 'pending');
    show($('link-copy'), link.status === 'pending');
    show($('link-code'), true);
  }

  function stopPolling() {
    if (state.linkPoll) window.clearTimeout(state.linkPoll);
    state.linkPoll = null;
  }

  /** Asks every few seconds whether the comment with the code has arrived. */
  function pollLink(code) {
    stopPolling();
    state.linkPoll = window.setTimeout(async () => {
      try {
        const link = await api('GET', 'links/' + encodeURIComponent(code));
        renderLinkCode(link);
        if (link.status === 'pending') return pollLink(code);
        if (link.status === 'used') renderMe(await api('GET', 'me'));
      } catch (failure) {
        pollLink(code);
      }
    }, 3000);
  }

  async function createLink(network) {
    show($('link-error'), false);
    try {
      const link = await api('POST', 'links', { network });
      renderLinkCode(link);
      $('link-code').scrollIntoView({ block: 'center' });
      pollLink(link.code);
    } catch (failure) {
      $('link-error').textContent = explain(failure);
      show($('link-error'), true);
    }
  }

  async function cancelLink() {
    stopPolling();
    const code = $('link-code-value').textContent;
    try {
      renderLinkCode(await api('DELETE', 'links/' + encodeURIComponent(code)));
    } catch (failure) {
      $('link-error').textContent = explain(failure);
      show($('link-error'), true);
    }
  }

  async function startVkId() {
    try {
      const start = await api('GET', 'links/vk-id/start');
      const tg = telegram();
      if (tg && tg.openLink) tg.openLink(start.authorize_url);
      else window.open(start.authorize_url, '_blank', 'noopener');
      show($('vk-id-note'), true);
    } catch (failure) {
      $('link-error').textContent = explain(failure);
      show($('link-error'), true);
    }
  }

  // ---------- start ----------

  async function loadAll() {
    showLoading();
    try {
      renderMe(await api('GET', 'me'));
      await Promise.all([loadHistory(false), loadLeaderboard(), loadCampaigns(), loadRewards()]);
    } catch (failure) {
      return showError(failure);
    }
    show($('loading'), false);
    show($('main'), true);
    show($('tabs'), true);
  }

  async function config() {
    if (!state.config) state.config = await api('GET', 'config');
    return state.config;
  }

  async function devSignIn(event) {
    event.preventDefault();
    const body = {
      telegram_user_id: Number($('dev-user-id').value),
      first_name: $('dev-first-name').value,
      username: $('dev-username').value || null,
      language_code: state.lang,
    };
    try {
      const session = await api('POST', 'dev-sign-in', body);
      state.initData = session.init_data;
      try {
        window.sessionStorage.setItem('devInitData', session.init_data);
      } catch (e) {
        // Private mode: the session lasts until the page reloads.
      }
      show($('dev'), false);
      await loadAll();
    } catch (failure) {
      showError(failure);
    }
  }

  function wire() {
    for (const button of document.querySelectorAll('#tabs button')) {
      button.addEventListener('click', () => selectTab(button.dataset.tab));
    }
    for (const button of document.querySelectorAll('#periods button')) {
      button.addEventListener('click', async () => {
        state.period = button.dataset.period;
        for (const b of document.querySelectorAll('#periods button')) b.classList.toggle('active', b === button);
        try {
          await loadLeaderboard();
        } catch (failure) {
          showError(failure);
        }
      });
    }
    $('history-more').addEventListener('click', () => loadHistory(true).catch(showError));
    $('retry').addEventListener('click', () => start());
    $('dev-form').addEventListener('submit', devSignIn);
    $('link-instagram').addEventListener('click', () => createLink('instagram'));
    $('link-vk').addEventListener('click', () => createLink('vk'));
    $('link-vk-id').addEventListener('click', startVkId);
    $('link-cancel').addEventListener('click', cancelLink);
    $('data-export').addEventListener('click', exportData);
    $('data-erase').addEventListener('click', () => show($('erase-confirm'), true));
    $('erase-no').addEventListener('click', () => show($('erase-confirm'), false));
    $('erase-yes').addEventListener('click', eraseData);
    $('link-copy').addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText($('link-code-value').textContent);
        $('link-copy').textContent = t('copied');
      } catch (e) {
        // Clipboard refused: the code is selectable by hand.
      }
    });
  }

  async function start() {
    state.initData = findInitData();
    if (state.initData) return loadAll();
    show($('loading'), false);
    try {
      const offered = await config();
      if (offered.dev_sign_in) return show($('dev'), true);
    } catch (e) {
      // Fall through: without initData the only thing to say is where to open the app.
    }
    showError(new ApiFailure(0, 'outside_telegram', t('openInTelegram')));
  }

  function boot() {
    state.initData = findInitData();
    state.lang = chooseLanguage(userOf(state.initData));
    applyTheme(themeFromHash());
    translatePage();
    wire();
    withTelegram((tg) => {
      applyTheme(tg.themeParams);
      setViewport(tg);
      tg.onEvent('themeChanged', () => applyTheme(tg.themeParams));
      tg.onEvent('viewportChanged', () => setViewport(tg));
      tg.ready();
      tg.expand();
    });
    start().then(async () => {
      try {
        const offered = await config();
        show($('link-vk-id'), Boolean(offered.vk_id));
      } catch (e) {
        // VK ID stays hidden.
      }
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
