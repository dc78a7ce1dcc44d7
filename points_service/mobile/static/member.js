// The member page: speaks the JSON API (/api/v1) with the member's own bearer token.
// The access token lives in memory only; the refresh token in sessionStorage, so a reload keeps the
// member signed in but closing the tab signs them out (a shared family phone is common).
// Every piece of data reaches the page through textContent, never as HTML.

const MESSAGES = {
  "zh-CN": {
    app_name: "红色积分",
    other_language: "English",
    tab_home: "我的积分",
    tab_rewards: "积分兑换",
    tab_activities: "志愿活动",
    sign_in_title: "党员群众登录",
    username: "用户名",
    password: "密码",
    sign_in: "登录",
    sign_out: "退出登录",
    greeting: "{name}，您好",
    available: "可用积分",
    held: "兑换中",
    earned_this_month: "本月获得",
    earned_this_year: "本年获得",
    rank: "本月在{unit}排名第 {rank} 位（{points} 分）",
    no_rank: "本月还没有获得积分，参加志愿活动就能上榜",
    history: "积分明细",
    load_more: "加载更多",
    empty_history: "还没有积分记录",
    catalogue: "可兑换的商品和服务",
    empty_catalogue: "暂时没有可兑换的商品",
    my_codes: "我的兑换码",
    empty_codes: "还没有兑换记录",
    points: "{points} 分",
    stock_left: "剩余 {stock}",
    sold_out: "已兑完",
    redeem: "兑换",
    redeemed: "兑换成功，请到店出示兑换码",
    show_code: "出示兑换码",
    cancel: "取消",
    cancelled: "已取消，积分已退回",
    expires: "有效期至 {at}",
    close: "关闭",
    status_pending: "待使用",
    status_fulfilled: "已使用",
    status_cancelled: "已取消",
    status_expired: "已过期",
    upcoming: "近期活动",
    empty_activities: "近期没有可报名的活动",
    places_left: "剩余名额 {left}",
    sign_up: "报名",
    signed_up: "报名成功",
    check_in_code: "签到码",
    check_in: "签到",
    checked_in: "签到成功",
    my_shifts: "我的岗位值守",
    empty_shifts: "暂无值守安排",
    check_out: "签退",
    checked_out: "签退成功, 获得 {points} 积分",
    shift_scheduled: "待值守",
    shift_on_duty: "值守中",
    shift_completed: "已完成 {hours} 小时",
    shift_missed: "缺勤",
    kind_award: "奖励",
    kind_penalty: "扣分",
    kind_adjustment: "调整",
    kind_reversal: "冲正",
    kind_redemption_hold: "兑换冻结",
    kind_redemption_release: "兑换退回",
    kind_redemption_fulfil: "兑换完成",
    kind_expiry: "过期",
    not_a_member: "此页面供党员群众使用，请用您的个人账号登录",
    session_ended: "登录已过期，请重新登录",
    network: "网络不通，请稍后再试",
    error: "操作没有成功，请稍后再试",
    invalid_credentials: "用户名或密码错误",
    too_many_attempts: "尝试次数太多，请 {minutes} 分钟后再试",
    insufficient_points: "积分不足，暂时不能兑换",
    out_of_stock: "这件商品已经兑完了",
    limit_reached: "已达到每人限兑数量",
    reward_unavailable: "这件商品现在不能兑换",
    not_pending: "这个兑换码已经使用、取消或过期",
    activity_full: "名额已满",
    already_signed_up: "您已经报过名了",
    activity_started: "活动已经开始，不能再报名或取消",
    activity_over: "活动已经结束",
    outside_check_in_window: "现在不在签到时间内",
    invalid_check_in_token: "签到码不对或已过期，请扫描现场的最新签到码",
    too_far_away: "您离活动地点太远，请到现场签到",
    location_required: "这个活动需要定位才能签到，请允许获取位置",
    already_checked_in: "您已经签到过了",
    not_signed_up: "请先报名这个活动",
    idempotency_in_progress: "上一次操作还在处理中，请稍候",
  },
  en: {
    app_name: "Red Points",
    other_language: "中文",
    tab_home: "My points",
    tab_rewards: "Rewards",
    tab_activities: "Activities",
    sign_in_title: "Member sign-in",
    username: "Username",
    password: "Password",
    sign_in: "Sign in",
    sign_out: "Sign out",
    greeting: "Hello, {name}",
    available: "Available points",
    held: "On hold",
    earned_this_month: "Earned this month",
    earned_this_year: "Earned this year",
    rank: "Rank {rank} in {unit} this month ({points} points)",
    no_rank: "No points earned this month yet: join an activity to get on the board",
    history: "History",
    load_more: "Load more",
    empty_history: "No points yet",
    catalogue: "Rewards you can redeem",
    empty_catalogue: "No rewards to redeem right now",
    my_codes: "My codes",
    empty_codes: "No redemptions yet",
    points: "{points} points",
    stock_left: "{stock} left",
    sold_out: "Sold out",
    redeem: "Redeem",
    redeemed: "Redeemed: show the code at the shop",
    show_code: "Show code",
    cancel: "Cancel",
    cancelled: "Cancelled: the points are back",
    expires: "Valid until {at}",
    close: "Close",
    status_pending: "To use",
    status_fulfilled: "Used",
    status_cancelled: "Cancelled",
    status_expired: "Expired",
    upcoming: "Upcoming activities",
    empty_activities: "No activities to join soon",
    places_left: "{left} places left",
    sign_up: "Sign up",
    signed_up: "You are signed up",
    check_in_code: "Check-in code",
    check_in: "Check in",
    checked_in: "Checked in",
    my_shifts: "My duty shifts",
    empty_shifts: "No shifts scheduled",
    check_out: "Check out",
    checked_out: "Checked out: {points} points",
    shift_scheduled: "Scheduled",
    shift_on_duty: "On duty",
    shift_completed: "Done, {hours} h",
    shift_missed: "Missed",
    kind_award: "Award",
    kind_penalty: "Penalty",
    kind_adjustment: "Adjustment",
    kind_reversal: "Reversal",
    kind_redemption_hold: "Redemption on hold",
    kind_redemption_release: "Redemption returned",
    kind_redemption_fulfil: "Redeemed",
    kind_expiry: "Expired",
    not_a_member: "This page is for members: please sign in with your own account",
    session_ended: "Your session ended: please sign in again",
    network: "No connection: please try again later",
    error: "That did not work: please try again later",
    invalid_credentials: "Wrong username or password",
    too_many_attempts: "Too many attempts: try again in {minutes} minutes",
    insufficient_points: "Not enough points to redeem this",
    out_of_stock: "This reward is sold out",
    limit_reached: "You have reached the limit for this reward",
    reward_unavailable: "This reward cannot be redeemed now",
    not_pending: "This code has already been used, cancelled or has expired",
    activity_full: "No places left",
    already_signed_up: "You are already signed up",
    activity_started: "The activity has started: sign-ups can no longer change",
    activity_over: "The activity is over",
    outside_check_in_window: "Check-in is not open now",
    invalid_check_in_token: "Wrong or expired check-in code: scan the latest code on site",
    too_far_away: "You are too far from the place: check in on site",
    location_required: "This activity needs your location to check in",
    already_checked_in: "You are already checked in",
    not_signed_up: "Sign up for this activity first",
    idempotency_in_progress: "The previous request is still being handled, please wait",
  },
};

const REFRESH_KEY = "rp_member_refresh";
const LANGUAGE_KEY = "rp_member_lang";
let language = localStorage.getItem(LANGUAGE_KEY) === "en" ? "en" : "zh-CN";
let accessToken = null;
let historyCursor = null;
let me = null;

const $ = (id) => document.getElementById(id);

function t(key, args = {}) {
  const text = MESSAGES[language][key] ?? MESSAGES[language].error;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(args[name] ?? ""));
}

function translatePage() {
  document.documentElement.lang = language;
  document.title = t("app_name");
  for (const element of document.querySelectorAll("[data-t]")) element.textContent = t(element.dataset.t);
  $("language").textContent = t("other_language");
}

function say(text, ok = false) {
  const box = $("message");
  box.textContent = text;
  box.classList.toggle("ok", ok);
  box.hidden = !text;
  if (text) box.scrollIntoView({ block: "nearest" });
}

class Problem extends Error {
  constructor(status, body) {
    super(body?.detail || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code || "error";
    this.body = body || {};
  }
}

function explain(problem) {
  if (!(problem instanceof Problem)) return t("network");
  const minutes = Math.ceil((Number(problem.body.retry_after) || 60) / 60);
  return MESSAGES[language][problem.code] ? t(problem.code, { minutes }) : t("error");
}

// A fresh key per button press: a double tap or a retried request is one redemption, a second press
// is a second one. getRandomValues works on plain http too, where crypto.randomUUID does not.
function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function send(path, { method = "GET", body, headers = {}, raw = false } = {}) {
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers: {
      ...(accessToken ? { Authorization: `Bearer ${accessToken}` } : {}),
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if (raw && response.ok) return response;
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Problem(response.status, data);
  return data;
}

async function api(path, options) {
  try {
    return await send(path, options);
  } catch (problem) {
    if (problem instanceof Problem && problem.status === 401 && (await renew())) return send(path, options);
    if (problem instanceof Problem && problem.status === 401) {
      signedOut(t("session_ended"));
    }
    throw problem;
  }
}

async function renew() {
  const refresh = sessionStorage.getItem(REFRESH_KEY);
  if (!refresh) return false;
  try {
    accessToken = null;
    const pair = await send("/auth/refresh", { method: "POST", body: { refresh_token: refresh } });
    keep(pair);
    return true;
  } catch {
    sessionStorage.removeItem(REFRESH_KEY);
    return false;
  }
}

function keep(pair) {
  accessToken = pair.access_token;
  sessionStorage.setItem(REFRESH_KEY, pair.refresh_token);
}

function signedOut(message = "") {
  accessToken = null;
  me = null;
  sessionStorage.removeItem(REFRESH_KEY);
  for (const id of ["home", "rewards", "activities", "tabs"]) $(id).hidden = true;
  $("sign-in").hidden = false;
  say(message);
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function localTime(iso) {
  return new Date(iso).toLocaleString(language, { dateStyle: "short", timeStyle: "short" });
}

function emptyItem(key) {
  const item = element("li", "empty", t(key));
  return item;
}

// -- views --------------------------------------------------------------------------------------

async function showHome() {
  const [balance, board] = await Promise.all([
    api("/me/balance"),
    api("/leaderboards?period=month&limit=1").catch(() => null),
  ]);
  $("greeting").textContent = t("greeting", { name: me.name });
  $("available").textContent = balance.available;
  $("held").textContent = balance.held;
  $("earned-month").textContent = balance.earned_this_month;
  $("earned-year").textContent = balance.earned_this_year;
  const rank = $("rank");
  // The tenant may hide ranks from members (member_ranking "hidden"): then nothing is said at all.
  rank.hidden = !board || board.member_ranking === "hidden";
  if (!rank.hidden) {
    rank.textContent = board.me
      ? t("rank", { rank: board.me.rank, points: board.me.points, unit: me.org_unit?.name ?? "" })
      : t("no_rank");
  }
  $("history").replaceChildren();
  historyCursor = null;
  await loadHistory();
}

async function loadHistory() {
  const query = historyCursor ? `?limit=20&cursor=${encodeURIComponent(historyCursor)}` : "?limit=20";
  const page = await api(`/me/ledger${query}`);
  const list = $("history");
  if (!page.items.length && !list.children.length) list.append(emptyItem("empty_history"));
  for (const line of page.items) {
    const item = element("li");
    const what = element("span", "what", line.memo || t(`kind_${line.kind}`));
    what.append(element("span", "meta", `${t(`kind_${line.kind}`)} · ${localTime(line.at)}`));
    const sign = line.amount > 0 ? "plus" : line.amount < 0 ? "minus" : "";
    item.append(what, element("span", `amount ${sign}`, line.amount > 0 ? `+${line.amount}` : String(line.amount)));
    list.append(item);
  }
  historyCursor = page.next_cursor;
  $("history-more").hidden = !historyCursor;
}

async function showRewards() {
  const [catalogue, mine] = await Promise.all([api("/rewards?limit=100"), api("/me/redemptions?limit=20")]);
  const codes = $("redemptions");
  codes.replaceChildren();
  if (!mine.items.length) codes.append(emptyItem("empty_codes"));
  for (const redemption of mine.items) {
    const item = element("li");
    item.dataset.redemption = redemption.id;
    const what = element("span", "what", redemption.reward.title ?? "");
    what.append(element("span", "meta", `${t(`status_${redemption.status}`)} · ${redemption.code}`));
    item.append(what);
    if (redemption.status === "pending") {
      const actions = element("span", "actions");
      const show = element("button", "primary", t("show_code"));
      show.type = "button";
      show.addEventListener("click", () => showCode(redemption));
      const cancel = element("button", "secondary", t("cancel"));
      cancel.type = "button";
      cancel.addEventListener("click", () => cancelRedemption(redemption, cancel));
      actions.append(show, cancel);
      item.append(actions);
    }
    codes.append(item);
  }
  const list = $("catalogue");
  list.replaceChildren();
  if (!catalogue.items.length) list.append(emptyItem("empty_catalogue"));
  for (const reward of catalogue.items) {
    const item = element("li");
    item.dataset.reward = reward.id;
    const what = element("span", "what", reward.title);
    const stock = reward.stock === null ? "" : reward.stock > 0 ? ` · ${t("stock_left", { stock: reward.stock })}` : ` · ${t("sold_out")}`;
    what.append(element("span", "meta", `${reward.merchant.name}${reward.merchant.address ? ` · ${reward.merchant.address}` : ""}`));
    what.append(element("span", "meta", `${t("points", { points: reward.points_price })}${stock}`));
    const redeem = element("button", "primary", t("redeem"));
    redeem.type = "button";
    redeem.disabled = reward.stock === 0;
    redeem.addEventListener("click", () => redeemReward(reward, redeem));
    item.append(what, redeem);
    list.append(item);
  }
}

async function redeemReward(reward, button) {
  button.disabled = true;
  try {
    const redemption = await api("/me/redemptions", {
      method: "POST",
      body: { reward_id: reward.id, quantity: 1 },
      headers: { "Idempotency-Key": idempotencyKey() },
    });
    say(t("redeemed"), true);
    await showRewards();
    await showCode({ ...redemption, reward: { title: reward.title } });
  } catch (problem) {
    say(explain(problem));
    button.disabled = false;
  }
}

async function cancelRedemption(redemption, button) {
  button.disabled = true;
  try {
    await api(`/me/redemptions/${redemption.id}/cancel`, { method: "POST" });
    say(t("cancelled"), true);
    await showRewards();
  } catch (problem) {
    say(explain(problem));
    button.disabled = false;
  }
}

let shownQr = null;

async function showCode(redemption) {
  $("code-title").textContent = redemption.reward?.title ?? "";
  $("code-text").textContent = redemption.code;
  $("code-expires").textContent = t("expires", { at: localTime(redemption.expires_at) });
  const response = await api(`/me/redemptions/${redemption.id}/qr.svg`, { raw: true });
  // Shown as an image: an SVG in <img> cannot run script, whatever it holds.
  if (shownQr) URL.revokeObjectURL(shownQr);
  shownQr = URL.createObjectURL(await response.blob());
  $("code-qr").src = shownQr;
  $("code-qr").alt = redemption.code;
  $("code-dialog").showModal();
}

async function showActivities() {
  const [upcoming, mine] = await Promise.all([api("/activities?limit=50"), api("/me/activities?limit=50")]);
  const signedUp = new Map(mine.items.filter((s) => s.status !== "cancelled").map((s) => [s.activity_id, s]));
  const list = $("activity-list");
  list.replaceChildren();
  if (!upcoming.items.length) list.append(emptyItem("empty_activities"));
  for (const activity of upcoming.items) {
    const item = element("li");
    item.dataset.activity = activity.id;
    const what = element("span", "what", activity.title);
    what.append(element("span", "meta", `${localTime(activity.starts_at)} · ${activity.place ?? ""}`));
    what.append(element("span", "meta", t("places_left", { left: activity.places_left })));
    item.append(what);
    const actions = element("span", "actions");
    const mineHere = signedUp.get(activity.id);
    if (!mineHere) {
      const join = element("button", "primary", t("sign_up"));
      join.type = "button";
      join.disabled = activity.places_left <= 0;
      join.addEventListener("click", () => signUp(activity, join));
      actions.append(join);
    } else if (!mineHere.checked_in_at) {
      const code = element("input");
      code.placeholder = t("check_in_code");
      code.setAttribute("aria-label", t("check_in_code"));
      code.autocapitalize = "characters";
      code.maxLength = 200;
      const go = element("button", "primary", t("check_in"));
      go.type = "button";
      go.addEventListener("click", () => checkIn(activity, code.value, go));
      actions.append(code, go);
    } else {
      actions.append(element("span", "meta", t("checked_in")));
    }
    item.append(actions);
    list.append(item);
  }
}

async function showShifts() {
  const shifts = await api("/me/shifts");
  const list = $("shift-list");
  list.replaceChildren();
  if (!shifts.items.length) list.append(emptyItem("empty_shifts"));
  for (const shift of shifts.items) {
    const item = element("li");
    item.dataset.shift = shift.id;
    const what = element("span", "what", shift.post_name);
    what.append(element("span", "meta", `${localTime(shift.starts_at)} – ${localTime(shift.ends_at)}`));
    item.append(what);
    const actions = element("span", "actions");
    const act = (path, key) => {
      const button = element("button", "primary", t(key));
      button.type = "button";
      button.addEventListener("click", () => shiftAct(shift, path, button));
      actions.append(button);
    };
    if (shift.status === "scheduled") act("check-in", "check_in");
    else if (shift.status === "on_duty") act("check-out", "check_out");
    else actions.append(element("span", "meta", t(`shift_${shift.status}`, { hours: shift.hours ?? 0 })));
    item.append(actions);
    list.append(item);
  }
}

async function shiftAct(shift, path, button) {
  button.disabled = true;
  try {
    const done = await api(`/shifts/${shift.id}/${path}`, {
      method: "POST",
      headers: path === "check-out" ? { "Idempotency-Key": idempotencyKey() } : {},
    });
    say(path === "check-out" ? t("checked_out", { points: done.points }) : t("checked_in"), true);
    await showShifts();
  } catch (problem) {
    say(explain(problem));
    button.disabled = false;
  }
}

async function signUp(activity, button) {
  button.disabled = true;
  try {
    await api(`/activities/${activity.id}/signups`, { method: "POST" });
    say(t("signed_up"), true);
    await showActivities();
  } catch (problem) {
    say(explain(problem));
    button.disabled = false;
  }
}

function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (found) => resolve({ latitude: found.coords.latitude, longitude: found.coords.longitude }),
      () => resolve(null),
      { timeout: 10000, maximumAge: 60000 },
    );
  });
}

async function checkIn(activity, token, button) {
  button.disabled = true;
  try {
    const where = activity.radius_m ? await position() : null;
    await api(`/activities/${activity.id}/check-in`, { method: "POST", body: { token: token.trim(), ...(where ?? {}) } });
    say(t("checked_in"), true);
    await showActivities();
  } catch (problem) {
    say(explain(problem));
    button.disabled = false;
  }
}

const VIEWS = { home: showHome, rewards: showRewards, activities: () => Promise.all([showActivities(), showShifts()]) };
let currentTab = "home";

async function open(tab) {
  currentTab = tab;
  for (const button of document.querySelectorAll("[data-tab]")) {
    if (button.dataset.tab === tab) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  for (const name of Object.keys(VIEWS)) $(name).hidden = name !== tab;
  try {
    await VIEWS[tab]();
  } catch (problem) {
    if (accessToken) say(explain(problem));
  }
}

async function start() {
  try {
    me = await api("/me");
  } catch {
    return signedOut();
  }
  if (me.role !== "member") {
    const refresh = sessionStorage.getItem(REFRESH_KEY);
    if (refresh) await send("/auth/logout", { method: "POST", body: { refresh_token: refresh } }).catch(() => {});
    return signedOut(t("not_a_member"));
  }
  $("sign-in").hidden = true;
  $("tabs").hidden = false;
  await open("home");
}

// -- wiring -------------------------------------------------------------------------------------

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  say("");
  try {
    keep(await send("/auth/login", { method: "POST", body: { username: $("username").value.trim(), password: $("password").value } }));
    $("password").value = "";
    await start();
  } catch (problem) {
    say(explain(problem));
  }
});
$("sign-out").addEventListener("click", async () => {
  const refresh = sessionStorage.getItem(REFRESH_KEY);
  if (refresh) await send("/auth/logout", { method: "POST", body: { refresh_token: refresh } }).catch(() => {});
  signedOut();
});
$("history-more").addEventListener("click", () => loadHistory().catch((problem) => say(explain(problem))));
$("language").addEventListener("click", () => {
  language = language === "en" ? "zh-CN" : "en";
  localStorage.setItem(LANGUAGE_KEY, language);
  translatePage();
  say("");
  if (me) open(currentTab);
});
for (const button of document.querySelectorAll("[data-tab]")) {
  button.addEventListener("click", () => {
    say("");
    open(button.dataset.tab);
  });
}

translatePage();
if (sessionStorage.getItem(REFRESH_KEY) && (await renew())) await start();
else signedOut();
