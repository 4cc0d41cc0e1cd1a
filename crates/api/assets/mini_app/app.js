// The Mini App page. Plain JS, no build step. Rules kept throughout:
// - every string that comes from the server or the user is inserted with textContent
//   (the `el` helper below); nothing here ever assigns innerHTML;
// - initData is sent as `Authorization: tma <initData>` on every API call, as Telegram signed it;
//   a program's own bot opens the page as /app?bot=<id>, and that id goes along as
//   X-Telegram-Bot-Id so the server checks initData with that bot's token;
// - Telegram's WebApp script is optional: inside Telegram it gives the theme, ready() and
//   expand(); without it the page reads #tgWebAppData itself, or offers the development
//   sign-in when the server says it is on.
(function () {
  'use strict';

  const API = '/api/v1/app/';
  // The bot that opened the app, when it is a program's own (see the rules above).
  const BOT_ID = (/^[0-9]{1,20}$/.exec(new URLSearchParams(window.location.search).get('bot') || '') || [null])[0];

  function authHeaders(initData) {
    const headers = { Authorization: 'tma ' + initData };
    if (BOT_ID) headers['X-Telegram-Bot-Id'] = BOT_ID;
    return headers;
  }

  const I18N = {
    ru: {
      appTitle: 'Бонусная программа',
      hello: 'Привет, {name}!',
      loading: 'Загрузка…',
      balance: 'Баланс',
      awaitingReview: 'Ещё {points} ждут проверки и добавятся после одобрения',
      expiring: '{points} сгорят {date}, если их не потратить',
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
      cancel: 'Отмена',
      notEnough: 'не хватает {n}',
      couponTitle: 'Ваш купон',
      couponHint: 'Покажите этот код на кассе или введите его при заказе.',
      myCoupons: 'Мои купоны',
      couponsEmpty: 'Купонов пока нет.',
      cancelled: 'отменён',
      couponUsed: 'использован {date}',
      accounts: 'Привязанные аккаунты',
      broadcastsTitle: 'Сообщения от бренда',
      broadcastsSwitch: 'Рассылки бренда в боте',
      broadcastsHint: 'Новости и акции приходят в чат с ботом. Команда /stop в боте тоже отключает их, /resume — включает снова.',
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
      code_taken: 'Код получен, но этот аккаунт уже привязан к другому участнику.',
      code_cooldown: 'Код получен, но этот аккаунт недавно отвязали от другого участника. Привязать его можно с {time}.',
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
      periodLastWeek: 'Прошлая неделя',
      periodLastMonth: 'Прошлый месяц',
      allNetworks: 'Все сети',
      boardFinal: 'Итоговые места: этот период закончился.',
      waysEmpty: 'Программа пока не начисляет баллы за активность в подключённых сообществах.',
      language: 'Язык',
      redeemAsk: 'Обменять баллы на награду',
      redeemFor: 'Обменять за {cost}',
      afterRedeem: 'После обмена останется {n}',
      done: 'Готово',
      welcomeTitle: '{name}: добро пожаловать в бонусную программу!',
      welcomeLink: 'Привяжите свои аккаунты ВКонтакте и Instagram.',
      welcomeActive: 'Комментируйте, голосуйте и участвуйте в акциях — за это начисляются баллы.',
      welcomeSpend: 'Обменивайте баллы на награды.',
      welcomeGo: 'Привязать аккаунт',
      welcomeClose: 'Понятно',
      nextReward: 'До «{title}» осталось {n}',
      tier: 'Уровень',
      tierNone: 'Пока без уровня',
      tierMultiplier: 'баллы ×{x}',
      tierNext: 'До уровня «{name}» (×{x}) осталось {n}',
      tierTop: 'Это высший уровень',
      tierLifetime: 'Считаются все заработанные баллы: траты уровень не снижают.',
      tierWindow: 'Считаются баллы за последние {days} дн.',
      rankUp: '↑ {n} с прошлой недели',
      rankDown: '↓ {n} с прошлой недели',
      rankSame: 'как на прошлой неделе',
      capToday: 'Сегодня можно заработать ещё {left} из {cap}.',
      capNetwork: '{network}: сегодня ещё {left} из {cap}',
      cooldown: 'не чаще раза в {time}',
      minutes: '{n} мин',
      hours: '{n} ч',
      liveOn: 'онлайн',
      couponActive: 'действует',
      openCoupon: 'Показать',
      raffles: 'Розыгрыши',
      catalogue: 'Награды за баллы',
      rafflePrize: 'Приз: {prize}',
      raffleTicket: 'билет — {cost}',
      raffleUntil: 'до {date}',
      raffleWinners: 'победителей: {n}',
      raffleMine: 'Ваши билеты: {n} из {max}',
      raffleTotal: 'всего билетов: {n}',
      raffleBuy: 'Купить билет за {cost}',
      raffleBought: 'Билет куплен. Удачи!',
      raffleLimit: 'у вас максимум билетов',
      raffleEnded: 'Продажа закрыта: скоро розыгрыш',
      raffleWon: 'Вы выиграли!',
      raffleLost: 'В этот раз не повезло',
      raffleDrawn: 'Розыгрыш проведён',
      raffleCancelled: 'Розыгрыш отменён: баллы за билеты возвращены',
      raffleFairness: 'Честность: SHA-256 {hash}',
      raffleSeed: 'Раскрытое зерно: {seed}',
      raffleProof: 'Проверить розыгрыш',
      raffleFree: 'участие бесплатное, один раз',
      raffleCancelledFree: 'Розыгрыш отменён',
      raffleIn: 'Вы участвуете: {did} с {from}',
      raffleHowTo: 'Чтобы участвовать: {todo}{network} до {until}',
      raffleInAtEnd: 'Вы в списке участников',
      raffleOut: 'Вы не попали в список участников',
      raffleEntriesClosed: 'Приём участников закрыт: скоро розыгрыш',
      raffleEntrants: 'участников: {n}',
      raffleDid_any: 'вы были активны', raffleDo_any: 'получите баллы за любое действие',
      raffleDid_comment: 'вы комментировали', raffleDo_comment: 'оставьте комментарий',
      raffleDid_mention: 'вы упоминали нас', raffleDo_mention: 'упомяните нас',
      raffleDid_reaction: 'вы ставили реакцию', raffleDo_reaction: 'поставьте реакцию',
      raffleDid_poll_vote: 'вы голосовали в опросе', raffleDo_poll_vote: 'проголосуйте в опросе',
      raffleDid_repost: 'вы делали репост', raffleDo_repost: 'сделайте репост',
      raffleDid_message: 'вы писали нам', raffleDo_message: 'напишите нам',
      raffleDid_subscription: 'вы подписались', raffleDo_subscription: 'подпишитесь',
      raffleDid_codeword: 'вы написали кодовое слово', raffleDo_codeword: 'напишите кодовое слово',
      err_raffle_closed: 'Продажа билетов на этот розыгрыш закрыта.',
      err_raffle_ticket_limit: 'У вас уже максимум билетов на этот розыгрыш.',
      err_raffle_without_tickets: 'В этом розыгрыше нет билетов: участвуют по активности.',
      err_raffle_cancelled: 'Этот розыгрыш отменён.',
      seasonTitle: 'Сезон',
      boardTitle: 'Общий рейтинг',
      pastSeasons: 'Прошедшие сезоны',
      seasonPhase_upcoming: 'скоро',
      seasonPhase_running: 'идёт',
      seasonPhase_settling: 'подводим итоги',
      seasonPhase_final: 'итоги',
      seasonCounts: 'Засчитываются: {kinds}.',
      seasonEverything: 'все действия',
      seasonKind_comment: 'комментарии', seasonKind_mention: 'упоминания', seasonKind_reaction: 'реакции',
      seasonKind_poll_vote: 'голоса в опросах', seasonKind_repost: 'репосты', seasonKind_message: 'сообщения',
      seasonKind_subscription: 'подписки', seasonKind_codeword: 'кодовые слова',
      seasonManualNot: 'Баллы, начисленные менеджером вручную, не засчитываются.',
      seasonManualCount: 'Баллы, начисленные менеджером вручную, тоже засчитываются.',
      seasonPrizes: 'Призы: {list}',
      seasonNoPrizes: 'Без призов: только слава.',
      seasonFinal: 'Итоговые места: сезон закончился, места и призы больше не меняются.',
      seasonYouAre: 'Вы на {rank}-м месте: {points}',
      seasonNotYet: 'У вас пока нет баллов в этом сезоне.',
      seasonStarts: 'Начнётся {date}: баллы засчитываются с этого момента.',
      seasonNotStarted: 'Сезон ещё не начался.',
      seasonYouWon: 'Вы заняли {rank}-е место и выиграли {prize}',
      seasonYouFinished: 'Вы заняли {rank}-е место: {points}',
      seasonNotIn: 'Вы не участвовали в этом сезоне.',
      seasonParticipants: 'Участников: {n}',
    },
    en: {
      appTitle: 'Loyalty program',
      hello: 'Hi, {name}!',
      loading: 'Loading…',
      balance: 'Balance',
      awaitingReview: 'Another {points} awaiting review: added once approved',
      expiring: '{points} expire on {date} unless spent',
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
      cancel: 'Cancel',
      notEnough: '{n} more needed',
      couponTitle: 'Your coupon',
      couponHint: 'Show this code at the till or enter it when you order.',
      myCoupons: 'My coupons',
      couponsEmpty: 'No coupons yet.',
      cancelled: 'cancelled',
      couponUsed: 'used {date}',
      accounts: 'Linked accounts',
      broadcastsTitle: 'Messages from the brand',
      broadcastsSwitch: 'News from the brand in the bot',
      broadcastsHint: 'News and offers come to your chat with the bot. /stop in the bot turns them off too, /resume turns them back on.',
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
      code_taken: 'Code received, but this account is already linked to another member.',
      code_cooldown: 'Code received, but this account was recently unlinked from another member. It can be linked from {time}.',
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
      periodLastWeek: 'Last week',
      periodLastMonth: 'Last month',
      allNetworks: 'All networks',
      boardFinal: 'Final standings: this period is over.',
      waysEmpty: 'The program does not reward activity in its connected communities yet.',
      language: 'Language',
      redeemAsk: 'Spend points on a reward',
      redeemFor: 'Redeem for {cost}',
      afterRedeem: '{n} left after redeeming',
      done: 'Done',
      welcomeTitle: '{name}: welcome to the rewards program!',
      welcomeLink: 'Link your VK and Instagram accounts.',
      welcomeActive: 'Comment, vote and join campaigns: that earns points.',
      welcomeSpend: 'Spend your points on rewards.',
      welcomeGo: 'Link an account',
      welcomeClose: 'Got it',
      nextReward: '{n} to go until “{title}”',
      tier: 'Tier',
      tierNone: 'No tier yet',
      tierMultiplier: 'points ×{x}',
      tierNext: '{n} to go until {name} (×{x})',
      tierTop: 'This is the top tier',
      tierLifetime: 'All points you have earned count; spending never lowers your tier.',
      tierWindow: 'Points earned in the last {days} days count.',
      rankUp: '↑ {n} since last week',
      rankDown: '↓ {n} since last week',
      rankSame: 'same as last week',
      capToday: 'You can earn {left} more of {cap} today.',
      capNetwork: '{network}: {left} more of {cap} today',
      cooldown: 'at most once every {time}',
      minutes: '{n} min',
      hours: '{n} h',
      liveOn: 'live',
      couponActive: 'active',
      openCoupon: 'Show',
      raffles: 'Raffles',
      catalogue: 'Rewards for points',
      rafflePrize: 'Prize: {prize}',
      raffleTicket: '{cost} a ticket',
      raffleUntil: 'until {date}',
      raffleWinners: '{n} winner(s)',
      raffleMine: 'Your tickets: {n} of {max}',
      raffleTotal: '{n} tickets in the draw',
      raffleBuy: 'Buy a ticket for {cost}',
      raffleBought: 'Ticket bought. Good luck!',
      raffleLimit: 'you hold the most tickets allowed',
      raffleEnded: 'Ticket sales are closed: the draw is coming',
      raffleWon: 'You won!',
      raffleLost: 'Not this time',
      raffleDrawn: 'The winners are drawn',
      raffleCancelled: 'The raffle was cancelled: your points for tickets are back',
      raffleFairness: 'Fairness: SHA-256 {hash}',
      raffleSeed: 'Revealed seed: {seed}',
      raffleProof: 'Check the draw',
      raffleFree: 'free to enter, once',
      raffleCancelledFree: 'The raffle was cancelled',
      raffleIn: "You're in: {did} since {from}",
      raffleHowTo: 'To enter: {todo}{network} before {until}',
      raffleInAtEnd: "You're in the draw",
      raffleOut: 'You did not enter this one',
      raffleEntriesClosed: 'Entries are closed: the draw is coming',
      raffleEntrants: '{n} members in the draw',
      raffleDid_any: 'you were active', raffleDo_any: 'earn points with any activity',
      raffleDid_comment: 'you commented', raffleDo_comment: 'comment',
      raffleDid_mention: 'you mentioned us', raffleDo_mention: 'mention us',
      raffleDid_reaction: 'you reacted', raffleDo_reaction: 'react to a post',
      raffleDid_poll_vote: 'you voted in a poll', raffleDo_poll_vote: 'vote in a poll',
      raffleDid_repost: 'you shared a post', raffleDo_repost: 'share a post',
      raffleDid_message: 'you wrote to us', raffleDo_message: 'write to us',
      raffleDid_subscription: 'you subscribed', raffleDo_subscription: 'subscribe',
      raffleDid_codeword: 'you wrote the codeword', raffleDo_codeword: 'write the codeword',
      err_raffle_closed: 'Ticket sales for this raffle are closed.',
      err_raffle_ticket_limit: 'You already hold the most tickets this raffle allows.',
      err_raffle_without_tickets: 'This raffle has no tickets: members enter by what they do.',
      err_raffle_cancelled: 'This raffle was cancelled.',
      seasonTitle: 'Season',
      boardTitle: 'Leaderboard',
      pastSeasons: 'Past seasons',
      seasonPhase_upcoming: 'coming soon',
      seasonPhase_running: 'on now',
      seasonPhase_settling: 'ended: results soon',
      seasonPhase_final: 'final',
      seasonCounts: 'Counts: {kinds}.',
      seasonEverything: 'every activity',
      seasonKind_comment: 'comments', seasonKind_mention: 'mentions', seasonKind_reaction: 'reactions',
      seasonKind_poll_vote: 'poll votes', seasonKind_repost: 'reposts', seasonKind_message: 'messages',
      seasonKind_subscription: 'subscriptions', seasonKind_codeword: 'codewords',
      seasonManualNot: 'Points a manager adds by hand do not count.',
      seasonManualCount: 'Points a manager adds by hand count too.',
      seasonPrizes: 'Prizes: {list}',
      seasonNoPrizes: 'No prizes: just the glory.',
      seasonFinal: 'Final standings: the season is over; ranks and prizes no longer change.',
      seasonYouAre: 'You are #{rank} with {points}',
      seasonNotYet: 'You have no points in this season yet.',
      seasonStarts: 'Starts {date}: points count from then on.',
      seasonNotStarted: 'The season has not started yet.',
      seasonYouWon: 'You finished #{rank} and won {prize}',
      seasonYouFinished: 'You finished #{rank} with {points}',
      seasonNotIn: 'You did not take part in this season.',
      seasonParticipants: '{n} members with points',
    },
  };

  const state = {
    lang: 'en',
    initData: '',
    config: null,
    me: null,
    historyCursor: null,
    // The history shown, newest first: live refreshes add what is new on top.
    history: [],
    period: 'all',
    boardNetwork: '',
    tab: 'home',
    linkPoll: null,
    // Redemptions the server confirmed that the rewards read model may not show yet.
    fresh: [],
    rewards: null,
    // The open bottom sheet: { reward, key } while asking, { coupon } while showing one.
    sheet: null,
    // Raffles as last read; tickets the server confirmed that the list may not count yet
    // (raffle id → my tickets); the raffle a ticket is being bought for, and the last bought.
    raffles: null,
    myTickets: {},
    buying: null,
    bought: null,
    // Seasons as last read, the current season's board, the past season opened and the
    // frozen boards read so far (they never change).
    seasons: null,
    seasonBoard: null,
    openSeason: null,
    pastBoards: {},
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

  /** localStorage, which a private tab or a strict WebView may refuse. */
  function stored(key, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(key);
      window.localStorage.setItem(key, value);
    } catch (e) {
      // Not remembered: asked again next time.
    }
    return null;
  }

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
    const chosen = stored('lang');
    if (chosen === 'ru' || chosen === 'en') return chosen;
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
    if (state.initData) Object.assign(all, authHeaders(state.initData));
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
    closeSheet();
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

  /** A tab's data is read when the tab is first opened, and again when the server says it moved. */
  const TAB_LOADERS = {
    top: () => Promise.all([loadLeaderboard(), loadSeasons()]),
    earn: () => loadCampaigns(),
    rewards: () => Promise.all([loadRewards(), loadRaffles()]),
    accounts: () => loadBroadcastSetting(),
  };

  function selectTab(name) {
    state.tab = name;
    for (const section of document.querySelectorAll('main .tab')) show(section, section.dataset.tab === name);
    for (const button of document.querySelectorAll('#tabs button')) {
      button.classList.toggle('active', button.dataset.tab === name);
    }
    window.scrollTo(0, 0);
    updateBackButton();
    if (TAB_LOADERS[name]) TAB_LOADERS[name]().catch(showError);
  }

  // ---------- Telegram's native controls ----------

  function tgAtLeast(version) {
    const tg = telegram();
    return Boolean(tg && tg.isVersionAtLeast && tg.isVersionAtLeast(version));
  }

  function haptic(kind) {
    const tg = telegram();
    if (tg && tg.HapticFeedback && tgAtLeast('6.1')) tg.HapticFeedback.notificationOccurred(kind);
  }

  /** Back closes the open sheet, else returns to the home tab; hidden on the home tab itself. */
  function goBack() {
    if (state.sheet) return closeSheet();
    if (state.tab !== 'home') selectTab('home');
  }

  function updateBackButton() {
    const tg = telegram();
    if (!tg || !tg.BackButton || !tgAtLeast('6.1')) return;
    if (state.sheet || state.tab !== 'home') tg.BackButton.show();
    else tg.BackButton.hide();
  }

  /** Telegram's MainButton as the sheet's primary action when there is one; else our own. */
  let mainButtonAction = null;
  function setMainButton(text, action) {
    const tg = telegram();
    const native = Boolean(tg && tg.MainButton && tgAtLeast('6.0'));
    if (native) {
      if (mainButtonAction) tg.MainButton.offClick(mainButtonAction);
      mainButtonAction = action;
      if (action) {
        tg.MainButton.setParams({ text, is_visible: true, is_active: true });
        tg.MainButton.onClick(action);
      } else {
        tg.MainButton.hideProgress();
        tg.MainButton.hide();
      }
    }
    return native;
  }

  function mainButtonBusy(busy) {
    const tg = telegram();
    if (!mainButtonAction || !tg) return;
    if (busy) tg.MainButton.showProgress(false);
    else tg.MainButton.hideProgress();
  }

  // ---------- the brand ----------

  /** Black or white text, whichever reads better on `hex`. */
  function textOn(hex) {
    const n = parseInt(hex.slice(1), 16);
    const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    return 0.299 * r + 0.587 * g + 0.114 * b > 160 ? '#16181d' : '#ffffff';
  }

  function openExternal(url) {
    const tg = telegram();
    if (tg && url.startsWith('https://t.me/') && tg.openTelegramLink) tg.openTelegramLink(url);
    else if (tg && tg.openLink) tg.openLink(url);
    else window.open(url, '_blank', 'noopener');
  }

  function renderBrand(brand) {
    // Every live refresh brings the brand again: redraw (and reload the logo) only on a change.
    const key = JSON.stringify(brand);
    if (state.brandShown === key) return;
    state.brandShown = key;
    $('brand-name').textContent = brand.name;
    document.title = brand.name;
    const root = document.documentElement.style;
    if (brand.accent_color && /^#[0-9a-f]{6}$/.test(brand.accent_color)) {
      root.setProperty('--brand', brand.accent_color);
      root.setProperty('--brand-text', textOn(brand.accent_color));
    } else {
      root.removeProperty('--brand');
      root.removeProperty('--brand-text');
    }
    const logo = $('brand-logo');
    clear(logo);
    if (brand.logo_url) logo.appendChild(el('img', { attrs: { src: brand.logo_url, alt: '', width: 40, height: 40 } }));
    show(logo, Boolean(brand.logo_url));
    const links = $('brand-links');
    clear(links);
    for (const network of ['vk', 'telegram', 'instagram']) {
      const url = brand.links[network];
      if (!url) continue;
      const link = el('a', { className: 'chip link', text: networkName(network), attrs: { href: url, target: '_blank', rel: 'noopener', 'data-network': network } });
      link.addEventListener('click', (event) => {
        event.preventDefault();
        openExternal(url);
      });
      links.appendChild(link);
    }
    show(links, links.children.length > 0);
  }

  function renderWelcome(me) {
    const key = 'welcomed:' + me.member_id;
    const fresh = me.balance.earned === 0 && me.balance.spent === 0 && !stored(key);
    $('welcome-title').textContent = t('welcomeTitle', { name: me.brand.name });
    show($('welcome'), fresh);
    $('welcome-close').onclick = () => {
      stored(key, '1');
      show($('welcome'), false);
    };
    $('welcome-go').onclick = () => {
      stored(key, '1');
      show($('welcome'), false);
      selectTab('accounts');
    };
  }

  // ---------- home: balance, rank, history ----------

  function renderMe(me) {
    const before = state.me ? state.me.balance.current : null;
    state.me = me;
    $('hello').textContent = t('hello', { name: me.first_name });
    renderBrand(me.brand);
    renderWelcome(me);
    showBalance(me.balance.current, before);
    $('earned').textContent = number(me.balance.earned);
    $('spent').textContent = number(me.balance.spent);
    const awaiting = me.balance.awaiting_review || 0;
    $('awaiting').textContent = awaiting > 0 ? t('awaitingReview', { points: points(awaiting) }) : '';
    show($('awaiting'), awaiting > 0);
    renderExpiring(me.expiring);
    show($('blocked'), me.blocked);
    for (const [id, rank] of [['rank-all', me.rank.all_time], ['rank-week', me.rank.week]]) {
      $(id).textContent = rank ? '#' + rank.rank : t('noRank');
      $(id).classList.toggle('none', !rank);
    }
    renderRankMove(me.rank);
    mergeHistory(me.recent);
    renderNextReward();
    renderTier(me.tier);
    renderAccounts(me);
  }

  /** The member's next points to expire (the oldest are spent first); hidden when none will. */
  function renderExpiring(expiring) {
    const box = $('expiring');
    show(box, Boolean(expiring));
    if (!expiring) return;
    // Noon of the program's day: the same date in every time zone the member may be in.
    box.textContent = t('expiring', { points: points(expiring.points), date: date(expiring.day + 'T12:00:00') });
  }

  /** The member's tier, its multiplier and the way to the next one; hidden without a ladder. */
  function renderTier(tier) {
    const box = $('tier');
    show(box, Boolean(tier));
    if (!tier) return;
    const times = (percent) => String(percent / 100).replace('.', state.lang === 'ru' ? ',' : '.');
    $('tier-name').textContent = tier.current ? tier.current.name : t('tierNone');
    $('tier-multiplier').textContent = tier.current ? t('tierMultiplier', { x: times(tier.current.multiplier_percent) }) : '';
    const next = tier.next;
    $('tier-next').textContent = next
      ? t('tierNext', { name: next.name, x: times(next.multiplier_percent), n: points(next.points_missing) })
      : t('tierTop');
    const reached = tier.qualifying_points;
    const percent = next ? Math.max(0, Math.min(100, Math.round((reached / (reached + next.points_missing || 1)) * 100))) : 100;
    $('tier-bar').style.width = percent + '%';
    box.querySelector('.bar').setAttribute('aria-valuenow', String(percent));
    $('tier-basis').textContent = tier.window_days > 0 ? t('tierWindow', { days: tier.window_days }) : t('tierLifetime');
  }

  function renderRankMove(rank) {
    const move = $('rank-move');
    move.className = 'move';
    if (!rank.week || !rank.last_week) return (move.textContent = '');
    const up = rank.last_week.rank - rank.week.rank;
    move.textContent = up > 0 ? t('rankUp', { n: up }) : up < 0 ? t('rankDown', { n: -up }) : t('rankSame');
    move.classList.add(up > 0 ? 'up' : up < 0 ? 'down' : 'same');
  }

  /** Shows a balance; when it grew while the app was open, counts up to it and says by how much. */
  function showBalance(current, before) {
    $('balance-unit').textContent = pointsWord(current);
    const node = $('balance');
    // A newer balance ends any count-up still running for an older one.
    const animation = (state.balanceAnimation = {});
    if (before === null || before === undefined || current <= before || matchMedia('(prefers-reduced-motion: reduce)').matches) {
      node.textContent = number(current);
      return;
    }
    const pop = $('balance-pop');
    pop.textContent = '+' + number(current - before);
    pop.classList.remove('go');
    void pop.offsetWidth; // restart the animation
    pop.classList.add('go');
    const started = performance.now();
    const step = (now) => {
      if (state.balanceAnimation !== animation) return;
      const done = Math.min(1, (now - started) / 600);
      node.textContent = number(Math.round(before + (current - before) * done));
      if (done < 1) requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
    node.textContent = number(current); // right at once for anyone reading it before a frame
  }

  function setBalance(current) {
    const before = state.me ? state.me.balance.current : null;
    if (state.me) state.me.balance.current = current;
    showBalance(current, before);
    renderNextReward();
  }

  function historyItem(entry) {
    const delta = entry.points
      ? el('span', { className: 'delta ' + (entry.points > 0 ? 'plus' : 'minus'), text: signed(entry.points) })
      : null;
    return el('li', { attrs: { 'data-type': entry.type, 'data-event': entry.event_id } }, [
      el('div', { className: 'grow' }, [
        el('div', { text: entry.text }),
        el('div', { className: 'meta', text: date(entry.at, true) }),
      ]),
      delta,
    ]);
  }

  function renderHistory() {
    const list = $('history');
    clear(list);
    for (const entry of state.history) list.appendChild(historyItem(entry));
    show($('history-empty'), state.history.length === 0);
    show($('history-more'), state.historyCursor !== null && state.historyCursor !== undefined);
  }

  /** The newest page from `me`: new entries go on top, pages already read stay below. */
  function mergeHistory(page) {
    if (state.history.length === 0) {
      state.history = page.entries.slice();
      state.historyCursor = page.next_cursor;
    } else {
      const known = new Set(state.history.map((e) => e.event_id));
      state.history = page.entries.filter((e) => !known.has(e.event_id)).concat(state.history);
    }
    renderHistory();
  }

  async function loadOlderHistory() {
    if (!state.historyCursor) return;
    const page = await api('GET', 'history?limit=20&cursor=' + state.historyCursor);
    const known = new Set(state.history.map((e) => e.event_id));
    state.history = state.history.concat(page.entries.filter((e) => !known.has(e.event_id)));
    state.historyCursor = page.next_cursor;
    renderHistory();
  }

  /** Progress toward the cheapest reward in stock the member cannot afford yet. */
  function renderNextReward() {
    const box = $('next-reward');
    if (!state.me || !state.rewards) return show(box, false);
    const balance = state.me.balance.current;
    const next = state.rewards
      .filter((r) => r.stock > 0 && r.cost > balance)
      .sort((a, b) => a.cost - b.cost)[0];
    show(box, Boolean(next) && !state.me.blocked);
    if (!next) return;
    $('next-reward-text').textContent = t('nextReward', { title: next.title, n: points(next.cost - balance) });
    const percent = Math.max(0, Math.min(100, Math.round((balance / next.cost) * 100)));
    $('next-reward-bar').style.width = percent + '%';
    box.querySelector('.bar').setAttribute('aria-valuenow', String(percent));
  }

  async function refreshMe() {
    const lang = state.lang;
    const me = await api('GET', 'me');
    // The language changed while this was in flight: the answer asked in the new one follows,
    // and this one's history must not take its place.
    if (lang !== state.lang) return;
    renderMe(me);
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

  /** The first three as a podium: second, first, third, as on a real one. */
  function podiumStep(standing) {
    return el('li', { className: 'step place-' + Math.min(standing.rank, 3) + (standing.me ? ' me' : '') }, [
      el('span', { className: 'medal', text: ['🥇', '🥈', '🥉'][Math.min(standing.rank, 3) - 1] }),
      el('span', { className: 'name', text: (standing.name || t('member')) + (standing.me ? ' (' + t('you') + ')' : '') }),
      el('span', { className: 'score', text: number(standing.score) }),
    ]);
  }

  async function loadLeaderboard() {
    const query = 'leaderboard?limit=20&period=' + state.period + (state.boardNetwork ? '&network=' + state.boardNetwork : '');
    const board = await api('GET', query);
    const podium = $('podium');
    clear(podium);
    const top = board.entries.slice(0, 3);
    for (const i of [1, 0, 2]) if (top[i]) podium.appendChild(podiumStep(top[i]));
    show(podium, top.length > 0);
    const list = $('leaderboard');
    clear(list);
    for (const standing of board.entries.slice(3)) list.appendChild(standingRow(standing));
    show($('leaderboard-empty'), board.entries.length === 0);
    show($('board-final'), state.period.startsWith('last_'));
    const meListed = board.entries.some((s) => s.me);
    clear($('my-place-row'));
    if (board.me && !meListed) $('my-place-row').appendChild(standingRow(board.me));
    show($('my-place'), Boolean(board.me) && !meListed);
    show($('not-on-board'), !board.me && board.entries.length > 0);
  }

  // ---------- seasons ----------

  const SEASON_KINDS = ['comment', 'mention', 'reaction', 'poll_vote', 'repost', 'message', 'subscription', 'codeword'];

  function seasonDates(season) {
    return date(season.starts_at, true) + ' – ' + date(season.ends_at, true);
  }

  function seasonCounts(season) {
    const kinds = season.activities.length >= SEASON_KINDS.length
      ? t('seasonEverything')
      : season.activities.map((k) => t('seasonKind_' + k)).join(', ');
    return t('seasonCounts', { kinds }) + ' ' + t(season.adjustments ? 'seasonManualCount' : 'seasonManualNot');
  }

  function seasonPrizes(season) {
    if (!season.prizes.length) return t('seasonNoPrizes');
    const bands = season.prizes.map((p) => '#' + p.from_rank + (p.to_rank > p.from_rank ? '–' + p.to_rank : '') + ' — ' + points(p.points));
    return t('seasonPrizes', { list: bands.join(', ') });
  }

  /** What a rank wins: the band it falls in, as the server pays it. */
  function seasonPrize(season, rank) {
    const band = season.prizes.find((p) => p.from_rank <= rank && rank <= p.to_rank);
    return band ? band.points : 0;
  }

  /** The member's own standing in a season, in a sentence. */
  function seasonMine(season) {
    if (season.phase === 'upcoming') return t('seasonStarts', { date: date(season.starts_at, true) });
    if (season.my_rank === null || season.my_rank === undefined) return t(season.phase === 'final' ? 'seasonNotIn' : 'seasonNotYet');
    if (season.phase !== 'final') return t('seasonYouAre', { rank: season.my_rank, points: points(season.my_score) });
    if (season.my_prize > 0) return t('seasonYouWon', { rank: season.my_rank, prize: points(season.my_prize) });
    return t('seasonYouFinished', { rank: season.my_rank, points: points(season.my_score) });
  }

  /** A row of a season's board; once final, it names what the rank won. */
  function seasonRow(season, standing, frozen) {
    const row = standingRow(standing);
    const prize = frozen ? seasonPrize(season, standing.rank) : 0;
    if (prize > 0) row.appendChild(el('span', { className: 'season-won', text: '+' + number(prize) }));
    return row;
  }

  /** A season's top entries, the caller's row below them when outside the top, and their place. */
  function seasonStandings(board) {
    const season = board.season;
    const box = el('div', { className: 'season-standings', attrs: { 'data-frozen': String(board.frozen) } });
    if (board.frozen) box.appendChild(el('p', { className: 'hint season-final', text: t('seasonFinal') }));
    const list = el('ol', { className: 'board season-board' });
    for (const standing of board.entries) list.appendChild(seasonRow(season, standing, board.frozen));
    box.appendChild(list);
    if (board.entries.length === 0) {
      box.appendChild(el('p', { className: 'empty', text: t(season.phase === 'upcoming' ? 'seasonNotStarted' : 'boardEmpty') }));
    }
    if (board.me && !board.entries.some((s) => s.me)) {
      box.appendChild(el('div', { className: 'label', text: t('yourPlace') }));
      box.appendChild(el('ol', { className: 'board season-me-row' }, [seasonRow(season, board.me, board.frozen)]));
    }
    box.appendChild(el('p', { className: 'season-mine', text: seasonMine(season) }));
    if (board.participants > 0) box.appendChild(el('p', { className: 'hint', text: t('seasonParticipants', { n: number(board.participants) }) }));
    return box;
  }

  function renderSeason() {
    const card = $('season');
    clear(card);
    const board = state.seasonBoard;
    show($('season-box'), Boolean(board));
    if (!board) return;
    const season = board.season;
    card.dataset.seasonId = season.season_id;
    card.dataset.phase = season.phase;
    card.appendChild(el('div', { className: 'row season-head' }, [
      el('span', { className: 'title season-name', text: season.name }),
      el('span', { className: 'badge season-phase', text: t('seasonPhase_' + season.phase) }),
    ]));
    card.appendChild(el('div', { className: 'hint season-dates', text: seasonDates(season) }));
    card.appendChild(el('div', { className: 'season-counts', text: seasonCounts(season) }));
    card.appendChild(el('div', { className: 'season-prizes', text: seasonPrizes(season) }));
    card.appendChild(seasonStandings(board));
  }

  function pastSeasonItem(season) {
    const open = state.openSeason === season.season_id;
    const toggle = el('button', { className: 'season-toggle', attrs: { type: 'button', 'aria-expanded': String(open) } }, [
      el('span', { className: 'title', text: season.name }),
      el('span', { className: 'meta', text: seasonDates(season) }),
      el('span', { className: 'season-result', text: seasonMine(season) }),
    ]);
    toggle.addEventListener('click', () => togglePastSeason(season.season_id));
    const item = el('li', { className: 'past-season' + (open ? ' open' : ''), attrs: { 'data-season-id': season.season_id } }, [toggle]);
    const board = state.pastBoards[season.season_id];
    if (open) item.appendChild(board ? seasonStandings(board) : el('p', { className: 'hint', text: t('loading') }));
    return item;
  }

  function renderPastSeasons() {
    const list = $('past-seasons');
    clear(list);
    for (const season of (state.seasons || []).filter((s) => s.phase === 'final')) list.appendChild(pastSeasonItem(season));
    show($('past-seasons-box'), list.children.length > 0);
  }

  async function togglePastSeason(seasonId) {
    state.openSeason = state.openSeason === seasonId ? null : seasonId;
    renderPastSeasons();
    if (!state.openSeason || state.pastBoards[seasonId]) return;
    try {
      state.pastBoards[seasonId] = await api('GET', 'seasons/' + encodeURIComponent(seasonId) + '?limit=20');
    } catch (failure) {
      // Closed again: the next tap asks once more.
      if (state.openSeason === seasonId) state.openSeason = null;
    }
    renderPastSeasons();
  }

  /** The season shown on top: the running one, else one settling, else the next to start. */
  function currentSeason(seasons) {
    for (const phase of ['running', 'settling']) {
      const season = seasons.find((s) => s.phase === phase);
      if (season) return season;
    }
    // Listed latest start first: the last upcoming one starts soonest.
    const upcoming = seasons.filter((s) => s.phase === 'upcoming');
    return upcoming.length ? upcoming[upcoming.length - 1] : null;
  }

  /** Seasons are an extra above the leaderboard: a failure to read them leaves them as they were. */
  async function loadSeasons() {
    try {
      const view = await api('GET', 'seasons');
      const current = currentSeason(view.seasons);
      state.seasonBoard = current ? await api('GET', 'seasons/' + encodeURIComponent(current.season_id) + '?limit=10') : null;
      state.seasons = view.seasons;
    } catch (failure) {
      if (state.seasons === null) state.seasons = [];
    }
    renderSeason();
    renderPastSeasons();
  }

  // ---------- earn ----------

  function duration(seconds) {
    if (seconds < 3600) return t('minutes', { n: Math.max(1, Math.round(seconds / 60)) });
    return t('hours', { n: Math.round(seconds / 3600) });
  }

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
            c.description ? el('div', { className: 'description', text: c.description }) : null,
            el('div', { className: c.description ? 'meta' : '', text: c.how_to }),
            el('div', { className: 'row badges' }, badges),
          ]),
          el('span', { className: 'delta plus', text: '+' + number(c.points) }),
        ]),
      );
    }
    show($('campaigns-empty'), view.campaigns.length === 0);
    const caps = $('caps');
    clear(caps);
    if (view.daily_cap) {
      caps.appendChild(el('div', { text: t('capToday', { left: points(view.daily_cap.left_today), cap: number(view.daily_cap.cap) }) }));
    }
    for (const cap of view.network_caps) {
      caps.appendChild(el('div', { className: 'meta', text: t('capNetwork', { network: networkName(cap.network), left: number(cap.left_today), cap: number(cap.cap) }) }));
    }
    show(caps, caps.children.length > 0);
    const ways = $('ways');
    clear(ways);
    for (const way of view.ways_to_earn) {
      const meta = [networkName(way.network)];
      if (way.cooldown_seconds > 0) meta.push(t('cooldown', { time: duration(way.cooldown_seconds) }));
      ways.appendChild(
        el('li', { attrs: { 'data-network': way.network, 'data-kind': way.kind } }, [
          el('div', { className: 'grow' }, [
            el('div', { className: 'title', text: way.text }),
            el('div', { text: way.how_to }),
            el('div', { className: 'meta', text: meta.join(' · ') }),
          ]),
          el('span', { className: 'delta plus', text: '+' + number(way.points) }),
        ]),
      );
    }
    show($('ways-empty'), view.ways_to_earn.length === 0);
  }

  // ---------- rewards and the redeem sheet ----------

  function rewardItem(reward) {
    const balance = state.me ? state.me.balance.current : 0;
    const short = reward.cost - balance;
    const redeem = el('button', { className: 'button small redeem', text: t('redeem'), attrs: { type: 'button' } });
    redeem.disabled = reward.stock <= 0 || short > 0 || (state.me && state.me.blocked);
    redeem.addEventListener('click', () => openRedeem(reward));
    let why = null;
    if (reward.stock <= 0) why = el('span', { className: 'meta', text: t('outOfStock') });
    else if (short > 0) why = el('span', { className: 'meta', text: t('notEnough', { n: points(short) }) });
    return el('li', { className: 'reward', attrs: { 'data-reward-id': reward.reward_id } }, [
      el('div', { className: 'title', text: reward.title }),
      el('div', { className: 'meta', text: points(reward.cost) + ' · ' + (reward.stock > 0 ? t('inStock', { n: number(reward.stock) }) : t('outOfStock')) }),
      el('div', { className: 'reward-actions' }, [why || el('span'), redeem]),
    ]);
  }

  function couponItem(coupon) {
    const spent = coupon.cancelled || Boolean(coupon.used_at);
    const status = coupon.cancelled
      ? el('span', { className: 'badge cancelled', text: t('cancelled') })
      : coupon.used_at
        ? el('span', { className: 'badge used', text: t('couponUsed', { date: date(coupon.used_at, true) }) })
        : el('span', { className: 'badge done', text: t('couponActive') });
    const item = el('li', { className: spent ? 'coupon-row cancelled' : 'coupon-row', attrs: { 'data-redemption': coupon.redemption_id } }, [
      el('div', { className: 'grow' }, [
        el('div', { className: 'title', text: coupon.title }),
        el('div', { className: 'meta', text: date(coupon.redeemed_at, true) }),
        el('div', { className: 'code-small', text: coupon.coupon_code }),
      ]),
      status,
    ]);
    if (!spent) {
      item.appendChild(el('button', { className: 'button small secondary open-coupon', text: t('openCoupon'), attrs: { type: 'button' }, onClick: () => showCoupon(coupon) }));
    }
    return item;
  }

  async function loadRewards() {
    const view = await api('GET', 'rewards');
    // The read model lags the redemption by a moment: what it lacks, add from our own answers.
    const known = new Set(view.coupons.map((c) => c.redemption_id));
    state.fresh = state.fresh.filter((r) => !known.has(r.redemption_id));
    state.rewards = view.rewards.map((reward) => {
      const unseen = state.fresh.filter((r) => r.reward_id === reward.reward_id).length;
      return Object.assign({}, reward, { stock: reward.stock - unseen });
    });
    const list = $('rewards');
    clear(list);
    for (const reward of state.rewards) list.appendChild(rewardItem(reward));
    show($('rewards-empty'), view.rewards.length === 0);
    const fresh = state.fresh.map((r) => Object.assign({ cancelled: false }, r));
    const all = fresh.reverse().concat(view.coupons);
    // Active coupons first, used and cancelled ones below; newest first within each.
    const done = (c) => Number(c.cancelled || Boolean(c.used_at));
    all.sort((a, b) => done(a) - done(b));
    const coupons = $('coupons');
    clear(coupons);
    for (const c of all) coupons.appendChild(couponItem(c));
    show($('coupons-empty'), all.length === 0);
    renderNextReward();
  }

  function openSheet(pane) {
    show($('sheet-confirm'), pane === 'confirm');
    show($('sheet-coupon'), pane === 'coupon');
    show($('sheet-backdrop'), true);
    show($('sheet'), true);
    document.body.classList.add('sheet-open');
    updateBackButton();
  }

  function closeSheet() {
    if (!state.sheet) return;
    state.sheet = null;
    setMainButton(null, null);
    show($('sheet'), false);
    show($('sheet-backdrop'), false);
    document.body.classList.remove('sheet-open');
    updateBackButton();
  }

  function openRedeem(reward) {
    // One key per opening of the sheet: a double tap or a retry sends the same key and pays once.
    state.sheet = { reward, key: newKey() };
    $('sheet-title').textContent = reward.title;
    $('sheet-cost').textContent = points(reward.cost);
    const balance = state.me ? state.me.balance.current : 0;
    $('sheet-after').textContent = t('afterRedeem', { n: points(balance - reward.cost) });
    show($('sheet-error'), false);
    const yes = $('sheet-yes');
    yes.textContent = t('redeemFor', { cost: points(reward.cost) });
    yes.disabled = false;
    const native = setMainButton(yes.textContent, confirmRedeem);
    show(yes, !native);
    openSheet('confirm');
  }

  async function confirmRedeem() {
    const open = state.sheet;
    if (!open || !open.reward || open.busy) return;
    open.busy = true;
    $('sheet-yes').disabled = true;
    mainButtonBusy(true);
    show($('sheet-error'), false);
    try {
      const reward = open.reward;
      const result = await api('POST', 'rewards/' + reward.reward_id + '/redeem', { idempotency_key: open.key }, { 'Idempotency-Key': open.key });
      haptic('success');
      if (!result.repeated) state.fresh.push(result);
      setBalance(result.balance);
      showCoupon(result);
      // The rest of the screen follows through the live stream once the read models have the
      // redemption: read now, they could still show the balance before it.
      loadRewards().catch(showError);
    } catch (failure) {
      haptic('error');
      open.busy = false;
      $('sheet-yes').disabled = false;
      mainButtonBusy(false);
      $('sheet-error').textContent = explain(failure);
      show($('sheet-error'), true);
    }
  }

  // ---------- raffles ----------

  /** A raffle as the member should see it: with the tickets the server confirmed just now. */
  function withMyTickets(raffle) {
    const confirmed = raffle.status === 'open' ? state.myTickets[raffle.raffle_id] || 0 : 0;
    const mine = Math.max(raffle.my_tickets, confirmed);
    return Object.assign({}, raffle, { my_tickets: mine, tickets: raffle.tickets + (mine - raffle.my_tickets) });
  }

  function proofLink(raffle) {
    // The page that reruns the draw in the member's own browser.
    const path = '/raffles/' + encodeURIComponent(raffle.raffle_id);
    const link = el('a', { className: 'proof', text: t('raffleProof'), attrs: { href: path, target: '_blank', rel: 'noopener' } });
    link.addEventListener('click', (event) => {
      event.preventDefault();
      openExternal(window.location.origin + path);
    });
    return link;
  }

  /** An activity raffle: nothing to buy; whether the member is in, or how to get in. */
  function activityRaffleItem(raffle) {
    const rule = raffle.entry_rule;
    const kind = rule.kind || 'any';
    const open = raffle.status === 'open' && new Date(raffle.ends_at).getTime() > Date.now();
    const facts = [t('raffleFree')];
    if (raffle.status === 'open' || raffle.status === 'ended') facts.push(t('raffleUntil', { date: date(raffle.ends_at, true) }));
    facts.push(t('raffleWinners', { n: number(raffle.winners) }));
    const item = el('li', { className: 'raffle', attrs: { 'data-raffle-id': raffle.raffle_id, 'data-status': raffle.status, 'data-rule': 'activity' } }, [
      el('div', { className: 'title', text: raffle.title }),
      el('div', { className: 'raffle-prize', text: t('rafflePrize', { prize: raffle.prize }) }),
      el('div', { className: 'meta', text: facts.join(' · ') }),
    ]);
    const network = rule.network ? ' (' + t('net_' + rule.network) + ')' : '';
    if (open) {
      const text = raffle.entered
        ? t('raffleIn', { did: t('raffleDid_' + kind), from: date(rule.from, true) })
        : t('raffleHowTo', { todo: t('raffleDo_' + kind), network, until: date(raffle.ends_at, true) });
      item.appendChild(el('div', { className: 'raffle-entry' + (raffle.entered ? ' entered' : ''), attrs: { 'data-entered': String(raffle.entered) }, text }));
    } else if (raffle.status === 'open' || raffle.status === 'ended') {
      item.appendChild(el('div', { className: 'raffle-entry', attrs: { 'data-entered': String(raffle.entered) }, text: raffle.entered ? t('raffleInAtEnd') : t('raffleOut') }));
      item.appendChild(el('span', { className: 'badge', text: t('raffleEntriesClosed') }));
    } else if (raffle.status === 'drawn') {
      const result = raffle.i_won ? t('raffleWon') : raffle.entered ? t('raffleLost') : t('raffleDrawn');
      item.appendChild(el('div', { className: 'row raffle-counts' }, [
        el('span', { className: 'badge raffle-result' + (raffle.i_won ? ' won' : ''), text: result }),
        el('span', { className: 'meta', text: t('raffleEntrants', { n: number(raffle.tickets) }) })]));
      if (raffle.seed) item.appendChild(el('div', { className: 'fair raffle-seed', text: t('raffleSeed', { seed: raffle.seed }) }));
    } else if (raffle.status === 'cancelled') {
      item.appendChild(el('span', { className: 'badge cancelled', text: t('raffleCancelledFree') }));
    }
    item.appendChild(el('div', { className: 'fair raffle-commitment', text: t('raffleFairness', { hash: raffle.commitment }) }));
    if (raffle.status === 'drawn') item.appendChild(proofLink(raffle));
    return item;
  }

  function raffleItem(raw) {
    if (raw.entry_rule && raw.entry_rule.rule === 'activity') return activityRaffleItem(raw);
    const raffle = withMyTickets(raw);
    const selling = raffle.status === 'open' && new Date(raffle.ends_at).getTime() > Date.now();
    const facts = [t('raffleTicket', { cost: points(raffle.ticket_cost) })];
    if (raffle.status === 'open' || raffle.status === 'ended') facts.push(t('raffleUntil', { date: date(raffle.ends_at, true) }));
    facts.push(t('raffleWinners', { n: number(raffle.winners) }));
    const item = el('li', { className: 'raffle', attrs: { 'data-raffle-id': raffle.raffle_id, 'data-status': raffle.status } }, [
      el('div', { className: 'title', text: raffle.title }),
      el('div', { className: 'raffle-prize', text: t('rafflePrize', { prize: raffle.prize }) }),
      el('div', { className: 'meta', text: facts.join(' · ') }),
    ]);
    const mine = el('div', { className: 'raffle-mine', text: t('raffleMine', { n: number(raffle.my_tickets), max: number(raffle.max_tickets_per_member) }) });
    const total = el('span', { className: 'meta', text: t('raffleTotal', { n: number(raffle.tickets) }) });
    if (selling) {
      const balance = state.me ? state.me.balance.current : 0;
      const short = raffle.ticket_cost - balance;
      const full = raffle.my_tickets >= raffle.max_tickets_per_member;
      const buy = el('button', { className: 'button small buy-ticket', text: t('raffleBuy', { cost: points(raffle.ticket_cost) }), attrs: { type: 'button' } });
      buy.disabled = full || short > 0 || Boolean(state.me && state.me.blocked) || state.buying !== null;
      const problem = el('p', { className: 'warning raffle-error', attrs: { role: 'alert' } });
      show(problem, false);
      buy.addEventListener('click', () => buyTicket(raffle, buy, problem));
      let why = null;
      if (full) why = el('span', { className: 'meta', text: t('raffleLimit') });
      else if (short > 0) why = el('span', { className: 'meta', text: t('notEnough', { n: points(short) }) });
      item.appendChild(el('div', { className: 'row raffle-counts' }, [mine, total]));
      if (state.bought === raffle.raffle_id) item.appendChild(el('div', { className: 'raffle-bought', attrs: { role: 'status' }, text: t('raffleBought') }));
      item.appendChild(el('div', { className: 'reward-actions' }, [why || el('span'), buy]));
      item.appendChild(problem);
    } else if (raffle.status === 'open' || raffle.status === 'ended') {
      item.appendChild(el('div', { className: 'row raffle-counts' }, [mine, total]));
      item.appendChild(el('span', { className: 'badge', text: t('raffleEnded') }));
    } else if (raffle.status === 'drawn') {
      const result = raffle.i_won ? t('raffleWon') : raffle.my_tickets > 0 ? t('raffleLost') : t('raffleDrawn');
      item.appendChild(el('div', { className: 'row raffle-counts' }, [
        el('span', { className: 'badge raffle-result' + (raffle.i_won ? ' won' : ''), text: result }), total]));
      if (raffle.seed) item.appendChild(el('div', { className: 'fair raffle-seed', text: t('raffleSeed', { seed: raffle.seed }) }));
    } else if (raffle.status === 'cancelled') {
      item.appendChild(el('span', { className: 'badge cancelled', text: t('raffleCancelled') }));
    }
    item.appendChild(el('div', { className: 'fair raffle-commitment', text: t('raffleFairness', { hash: raffle.commitment }) }));
    if (raffle.status === 'drawn') item.appendChild(proofLink(raffle));
    return item;
  }

  function renderRaffles() {
    const list = $('raffles');
    clear(list);
    for (const raffle of state.raffles || []) list.appendChild(raffleItem(raffle));
    show($('raffles-box'), list.children.length > 0);
  }

  /** Raffles are an extra above the catalogue: a failure to read them leaves the list as it was. */
  async function loadRaffles() {
    try {
      const view = await api('GET', 'raffles');
      state.raffles = view.raffles;
    } catch (failure) {
      if (state.raffles === null) state.raffles = [];
    }
    renderRaffles();
  }

  async function buyTicket(raffle, button, problem) {
    if (state.buying) return;
    state.buying = raffle.raffle_id;
    button.disabled = true;
    show(problem, false);
    // One key per tap, as each tap is one ticket; while it is answered, no other tap is taken,
    // and a retry of this request by the network is recorded once.
    const key = newKey();
    try {
      const result = await api('POST', 'raffles/' + encodeURIComponent(raffle.raffle_id) + '/tickets', { idempotency_key: key }, { 'Idempotency-Key': key });
      haptic('success');
      state.myTickets[raffle.raffle_id] = Math.max(state.myTickets[raffle.raffle_id] || 0, result.my_tickets);
      state.bought = raffle.raffle_id;
      state.buying = null;
      setBalance(result.balance);
      renderRaffles();
      // The catalogue's "not enough" follows the new balance.
      loadRewards().catch(() => {});
    } catch (failure) {
      haptic('error');
      state.buying = null;
      renderRaffles();
      const item = document.querySelector('#raffles li[data-raffle-id="' + raffle.raffle_id + '"] .raffle-error');
      const target = item || problem;
      target.textContent = explain(failure);
      show(target, true);
    }
  }

  /** Draws a QR code from the server's path: an SVG built node by node, never from markup. */
  function drawQr(qr) {
    const box = $('coupon-qr');
    clear(box);
    show(box, Boolean(qr));
    if (!qr) return;
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + qr.size + ' ' + qr.size);
    svg.setAttribute('shape-rendering', 'crispEdges');
    svg.setAttribute('role', 'img');
    const background = document.createElementNS(ns, 'rect');
    background.setAttribute('width', String(qr.size));
    background.setAttribute('height', String(qr.size));
    background.setAttribute('fill', '#ffffff');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', qr.path);
    path.setAttribute('fill', '#000000');
    svg.appendChild(background);
    svg.appendChild(path);
    box.appendChild(svg);
  }

  function showCoupon(coupon) {
    setMainButton(null, null);
    state.sheet = { coupon };
    $('coupon-title').textContent = coupon.title;
    $('coupon-code').textContent = coupon.coupon_code;
    $('coupon-copy').textContent = t('copy');
    drawQr(coupon.qr);
    const native = setMainButton(t('done'), closeSheet);
    show($('coupon-done'), !native);
    openSheet('coupon');
  }

  async function copyCoupon() {
    const code = $('coupon-code').textContent;
    try {
      await navigator.clipboard.writeText(code);
      $('coupon-copy').textContent = t('copied');
      haptic('success');
    } catch (e) {
      // Clipboard refused: select the code, so one more tap copies it by hand.
      const range = document.createRange();
      range.selectNodeContents($('coupon-code'));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
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
      await refreshMe();
    } catch (failure) {
      button.disabled = false;
      $('link-error').textContent = explain(failure);
      show($('link-error'), true);
    }
  }

  // ---------- the brand's broadcasts: on or off ----------

  /** The switch shows the server's setting; `data-saved` says which one it last confirmed. */
  function showBroadcastSetting(subscribed) {
    const box = $('broadcasts-switch');
    box.checked = subscribed;
    box.dataset.saved = subscribed ? 'on' : 'off';
  }

  async function loadBroadcastSetting() {
    const box = $('broadcasts-switch');
    if (box.dataset.busy) return;
    try {
      const setting = await api('GET', 'me/broadcasts');
      if (!box.dataset.busy) showBroadcastSetting(setting.subscribed);
      show($('broadcasts-error'), false);
      box.disabled = false;
    } catch (failure) {
      // A setting that cannot be read is said here, not over the whole page.
      $('broadcasts-error').textContent = explain(failure);
      show($('broadcasts-error'), true);
    }
  }

  async function saveBroadcastSetting() {
    const box = $('broadcasts-switch');
    const wanted = box.checked;
    box.disabled = true;
    box.dataset.busy = '1';
    show($('broadcasts-error'), false);
    try {
      const setting = await api('PUT', 'me/broadcasts', { subscribed: wanted });
      showBroadcastSetting(setting.subscribed);
      haptic('success');
    } catch (failure) {
      box.checked = !wanted;
      $('broadcasts-error').textContent = explain(failure);
      show($('broadcasts-error'), true);
    } finally {
      delete box.dataset.busy;
      box.disabled = false;
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
      // Nothing may ask `me` again: it would register the member anew.
      state.me = null;
      stopLive();
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
    const from = link.linkable_from ? date(link.linkable_from, true) : '';
    $('link-status').textContent = t('code_' + link.status, { time: from });
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
        if (link.status === 'used') await refreshMe();
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

  // ---------- live updates ----------

  // The server's event stream, read with fetch: an EventSource cannot send initData. While the
  // stream is down the app asks `me` every POLL_MS instead, and tries the stream again.
  const POLL_MS = 5000;
  const live = { controller: null, connectedBefore: false, retries: 0, retryTimer: null, pollTimer: null, refreshTimer: null, lastRefresh: 0 };

  function setLive(on) {
    const badge = $('live');
    badge.textContent = on ? t('liveOn') : '';
    badge.classList.toggle('on', on);
    show(badge, on);
  }

  function stopLive() {
    if (live.controller) live.controller.abort();
    live.controller = null;
    window.clearTimeout(live.refreshTimer);
    window.clearTimeout(live.retryTimer);
    window.clearInterval(live.pollTimer);
    live.pollTimer = null;
    setLive(false);
  }

  /** Re-reads what the open screen shows, at most once per `gap` ms (0: now). */
  function refreshSoon(gap) {
    window.clearTimeout(live.refreshTimer);
    const wait = Math.max(0, live.lastRefresh + gap - Date.now());
    live.refreshTimer = window.setTimeout(async () => {
      if (!state.me) return;
      live.lastRefresh = Date.now();
      try {
        await refreshMe();
        if (TAB_LOADERS[state.tab]) await TAB_LOADERS[state.tab]();
      } catch (e) {
        // The next change or poll tries again.
      }
    }, wait);
  }

  function liveEvent(block) {
    let name = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) name = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (name === 'ready') {
      live.retries = 0;
      window.clearInterval(live.pollTimer);
      live.pollTimer = null;
      setLive(true);
      // Whatever happened while we were away (asleep, offline) shows now.
      let moved = live.connectedBefore;
      try {
        moved = moved || (state.me && JSON.parse(data).current !== state.me.balance.current);
      } catch (e) {
        moved = true;
      }
      if (moved) refreshSoon(0);
      live.connectedBefore = true;
    } else if (name === 'balance') {
      try {
        const balance = JSON.parse(data);
        if (state.me && balance.current !== state.me.balance.current) setBalance(balance.current);
      } catch (e) {
        // A malformed event: the refresh below reads the balance anyway.
      }
      refreshSoon(0);
    } else if (name === 'projected') {
      refreshSoon(1000);
    }
  }

  function liveLost() {
    setLive(false);
    if (!live.pollTimer) live.pollTimer = window.setInterval(() => refreshSoon(0), POLL_MS);
    const delay = Math.min(15000, 1000 * 2 ** live.retries);
    live.retries += 1;
    window.clearTimeout(live.retryTimer);
    live.retryTimer = window.setTimeout(startLive, delay);
  }

  function startLive() {
    if (live.controller) live.controller.abort();
    if (!state.initData || document.visibilityState === 'hidden') return;
    const controller = new AbortController();
    live.controller = controller;
    const headers = Object.assign(authHeaders(state.initData), { 'Accept-Language': state.lang, Accept: 'text/event-stream' });
    fetch(API + 'live', { headers, signal: controller.signal, cache: 'no-store' })
      .then(async (response) => {
        if (!response.ok || !response.body || !response.body.getReader) throw new Error('no stream');
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) throw new Error('the stream ended');
          buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            liveEvent(buffer.slice(0, cut));
            buffer = buffer.slice(cut + 2);
          }
        }
      })
      .catch(() => {
        if (live.controller === controller && !controller.signal.aborted) liveLost();
      });
  }

  // A phone asleep drops the connection without telling anyone: reconnect when it wakes.
  function onVisibility() {
    if (!state.me) return;
    if (document.visibilityState === 'hidden') stopLive();
    else {
      live.retries = 0;
      startLive();
    }
  }

  // ---------- start ----------

  async function loadAll() {
    showLoading();
    try {
      // The first screen from one request; the other tabs load behind it.
      renderMe(await api('GET', 'me'));
    } catch (failure) {
      return showError(failure);
    }
    show($('loading'), false);
    show($('main'), true);
    show($('tabs'), true);
    if (window.performance && performance.mark) performance.mark('loyalty:first-screen');
    loadRewards().catch(() => {});
    startLive();
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

  /** Switches the page's language, and the server's texts with it. */
  function chooseLanguageNow(lang) {
    stored('lang', lang);
    state.lang = lang;
    translatePage();
    markLanguage();
    setLive($('live').classList.contains('on'));
    if (state.me) {
      state.history = [];
      refreshMe().catch(showError);
      // The server's words (ways to earn, history) come in the new language too.
      if (TAB_LOADERS[state.tab]) TAB_LOADERS[state.tab]().catch(showError);
    }
  }

  function markLanguage() {
    for (const b of document.querySelectorAll('#languages button')) b.classList.toggle('active', b.dataset.lang === state.lang);
  }

  function chipGroup(id, attribute, onPick) {
    for (const button of document.querySelectorAll('#' + id + ' button')) {
      button.addEventListener('click', () => {
        for (const b of document.querySelectorAll('#' + id + ' button')) b.classList.toggle('active', b === button);
        onPick(button.dataset[attribute]);
      });
    }
  }

  function wire() {
    for (const button of document.querySelectorAll('#tabs button')) {
      button.addEventListener('click', () => selectTab(button.dataset.tab));
    }
    chipGroup('periods', 'period', (period) => {
      state.period = period;
      loadLeaderboard().catch(showError);
    });
    chipGroup('board-networks', 'network', (network) => {
      state.boardNetwork = network;
      loadLeaderboard().catch(showError);
    });
    for (const button of document.querySelectorAll('#languages button')) {
      button.addEventListener('click', () => chooseLanguageNow(button.dataset.lang));
    }
    $('history-more').addEventListener('click', () => loadOlderHistory().catch(showError));
    $('retry').addEventListener('click', () => start());
    $('dev-form').addEventListener('submit', devSignIn);
    $('sheet-yes').addEventListener('click', confirmRedeem);
    $('sheet-no').addEventListener('click', closeSheet);
    $('sheet-backdrop').addEventListener('click', closeSheet);
    $('coupon-done').addEventListener('click', closeSheet);
    $('coupon-copy').addEventListener('click', copyCoupon);
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') goBack();
    });
    document.addEventListener('visibilitychange', onVisibility);
    $('link-instagram').addEventListener('click', () => createLink('instagram'));
    $('link-vk').addEventListener('click', () => createLink('vk'));
    $('link-vk-id').addEventListener('click', startVkId);
    $('link-cancel').addEventListener('click', cancelLink);
    $('broadcasts-switch').addEventListener('change', saveBroadcastSetting);
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

  /** Telegram's look and gestures: theme colours, full height, no swipe-to-close by mistake. */
  function nativeTelegram(tg) {
    applyTheme(tg.themeParams);
    setViewport(tg);
    tg.onEvent('themeChanged', () => applyTheme(tg.themeParams));
    tg.onEvent('viewportChanged', () => setViewport(tg));
    if (tgAtLeast('6.1')) {
      tg.setHeaderColor('bg_color');
      tg.setBackgroundColor('bg_color');
      tg.BackButton.onClick(goBack);
    }
    // Lists scroll vertically: a swipe down must scroll them, not close the app.
    if (tgAtLeast('7.7') && tg.disableVerticalSwipes) tg.disableVerticalSwipes();
    tg.ready();
    tg.expand();
    updateBackButton();
  }

  function boot() {
    state.initData = findInitData();
    state.lang = chooseLanguage(userOf(state.initData));
    applyTheme(themeFromHash());
    translatePage();
    markLanguage();
    wire();
    withTelegram(nativeTelegram);
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
