"""The pages' labels in Chinese and English. Chinese is the default; the switch is a cookie.

A label missing in one language is a bug (the assertion below), so neither language ever shows a
bare key. Refusals are translated by their stable code (auction.rules.refusal, problem documents);
an unknown code shows the service's own English sentence.

Its length is the two label tables: kept in one file so that the assertion comparing them sees
both languages at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANGUAGE_COOKIE = "ipx_lang"

# key: (中文, English)
LABELS: dict[str, tuple[str, str]] = {
    "site_name": ("知识产权质押贷款流转与处置平台", "IP-loan transfer and disposal platform"),
    "nav_catalogue": ("拍卖目录", "Auctions"),
    "nav_clearing": ("清算台", "Clearing desk"),
    "nav_login": ("登录", "Log in"),
    "nav_logout": ("退出", "Log out"),
    "language_switch": ("English", "中文"),
    "language_switch_label": ("切换语言", "Switch language"),
    "logged_in_as": ("当前用户", "Logged in as"),
    "skip_to_content": ("跳到正文", "Skip to content"),
    # login
    "login_title": ("登录", "Log in"),
    "login_intro": (
        "请输入参与方的 API 密钥。密钥只用于本次验证，不会保存在浏览器中。",
        "Enter a participant's API key. It is checked once and never kept in the browser.",
    ),
    "api_key": ("API 密钥", "API key"),
    "login_submit": ("登录", "Log in"),
    "login_failed": ("密钥无效或已停用", "Unknown or inactive API key"),
    "login_needed": ("请先登录", "Please log in first"),
    "logged_out": ("已退出登录", "You are logged out"),
    "forbidden_role": ("此页面需要以下角色：", "This page needs the role: "),
    # catalogue
    "catalogue_title": ("拍卖目录", "Auction catalogue"),
    "state_upcoming": ("即将开始", "Upcoming"),
    "state_live": ("正在进行", "Live"),
    "state_ended": ("已结束", "Ended"),
    "filter_kind": ("质押物类型", "Collateral kind"),
    "filter_all_kinds": ("全部类型", "All kinds"),
    "filter_apply": ("筛选", "Filter"),
    "no_lots": ("暂无拍品", "No lots"),
    "lot": ("拍品", "Lot"),
    "collateral": ("质押物", "Collateral"),
    "appraisal": ("评估价", "Appraisal"),
    "start_price": ("起拍价", "Start price"),
    "current_price": ("当前价", "Current price"),
    "time_left": ("剩余时间", "Time left"),
    "starts_at": ("开始时间", "Starts"),
    "ends_at": ("结束时间", "Ends"),
    "final_price": ("成交价", "Final price"),
    "lots_capped": ("仅显示最早结束的 {count} 件拍品", "Showing the {count} lots ending soonest"),
    # room
    "room_title": ("拍卖室", "Auction room"),
    "increment": ("加价幅度", "Increment"),
    "deposit": ("保证金", "Deposit"),
    "reserve": ("保留价", "Reserve"),
    "reserve_none": ("无保留价", "No reserve"),
    "reserve_met": ("已达保留价", "Reserve met"),
    "reserve_not_met": ("未达保留价", "Reserve not met"),
    "leading_paddle": ("领先竞买号", "Leading paddle"),
    "bid_count": ("出价次数", "Bids"),
    "registrations": ("报名人数", "Registered bidders"),
    "countdown": ("倒计时", "Countdown"),
    "day_unit": ("天", "d"),
    "history": ("出价记录", "Bid history"),
    "paddle": ("竞买号", "Paddle"),
    "amount": ("出价", "Amount"),
    "price_after": ("出价后当前价", "Price after"),
    "received_at": ("时间", "Time"),
    "no_bids": ("暂无出价", "No bids yet"),
    "kind": ("类型", "Kind"),
    "registry_number": ("登记号", "Registry number"),
    "title": ("名称", "Title"),
    "state": ("状态", "State"),
    "live_connected": ("实时连接正常", "Live"),
    "live_reconnecting": ("连接中断，正在重连…", "Connection lost, reconnecting…"),
    "extended_to": ("延时至", "Extended to"),
    "your_paddle": ("您的竞买号", "Your paddle"),
    "your_max": ("您的最高出价（仅您可见）", "Your maximum (only you see it)"),
    "you_lead": ("您当前领先", "You are leading"),
    "your_sealed_bid": ("您的密封出价（仅您可见）", "Your sealed bid (only you see it)"),
    "you_are_outbid": ("您已被超越", "You have been outbid"),
    "deposit_state": ("保证金状态", "Deposit"),
    "bid_form": ("出价", "Place a bid"),
    "bid_amount": ("出价金额（元）", "Bid amount (yuan)"),
    "bid_max": ("代理最高价（元，选填）", "Proxy maximum (yuan, optional)"),
    "bid_max_help": (
        "系统按加价幅度代您出价，最高不超过此金额",
        "The system bids for you on the grid, never above this amount",
    ),
    "next_amounts": ("下一有效出价", "Next valid amounts"),
    "bid_submit": ("确认出价", "Place bid"),
    # What a bidder is told of its accepted bid: the amount it bid, and where that leaves it.
    "bid_leading": (
        "出价 {amount} 已受理，您以当前价 {price} 领先",
        "Your bid of {amount} is in: you lead at {price}",
    ),
    "bid_outbid_at_once": (
        "出价 {amount} 已受理，但其他竞买人的代理出价更高：当前价 {price}，您未领先",
        "Your bid of {amount} is in, but another bidder's proxy maximum is higher: the price is {price}"
        " and you are not leading",
    ),
    "bid_sealed_in": (
        "密封出价 {amount} 已提交，开标前他人不可见",
        "Your sealed bid of {amount} is in; no one else sees it before the opening",
    ),
    "bid_won_at_once": (
        "您以 {price} 竞得此拍品，请在付款期限内付清余款",
        "You won this lot at {price}: pay the balance by the deadline",
    ),
    "bid_proxy_up_to": ("（代理最高价 {maximum}）", " (proxy maximum {maximum})"),
    "register_intro": (
        "报名后冻结保证金，获得竞买号方可出价。",
        "Registering holds the deposit and gives you a paddle to bid with.",
    ),
    "register_submit": ("报名并冻结保证金", "Register and hold the deposit"),
    "registered": ("报名成功，竞买号", "Registered, paddle"),
    "login_to_bid": ("登录后可报名出价", "Log in to register and bid"),
    "not_a_bidder": ("此账户没有竞买人角色，不能出价", "This account has no bidder role and cannot bid"),
    "outcome_sold": ("已成交", "Sold"),
    "outcome_unsold": ("流拍", "Unsold"),
    "outcome_cancelled": ("已撤拍", "Cancelled"),
    "you_won": ("恭喜，您已竞得此拍品", "You won this lot"),
    "you_lost": ("拍卖已结束，您未竞得此拍品", "The auction has ended; you did not win this lot"),
    "winning_paddle": ("买受人竞买号", "Winning paddle"),
    "payment_due_at": ("付款截止", "Payment due"),
    "server_time": ("服务器时间", "Server time"),
    # room, live behaviour: the standing line, an ended lot, the spoken sentences, expired forms
    "you_have_not_bid": ("您尚未出价", "You have not bid yet"),
    "you_won_short": ("您已竞得", "You won"),
    "you_lost_short": ("您未竞得", "You did not win"),
    "countdown_ended": ("已结束", "Ended"),
    "bidding_over": ("拍卖已结束，不再接受报名和出价", "The auction is over: no more registrations or bids"),
    "registered_deposit_held": (
        "{registered}，已冻结保证金 {deposit}",
        "{registered}; deposit {deposit} held",
    ),
    "use_minimum": ("改为最低有效出价 {minimum}", "Use the minimum bid {minimum}"),
    "reload_page": ("刷新页面", "Reload the page"),
    "login_expired": ("登录已过期，请重新登录", "Your login has expired; please log in again"),
    "log_in_again": ("重新登录", "Log in again"),
    "announce_price": ("{label} {price}，领先竞买号 {paddle}", "{label} {price}, leading paddle {paddle}"),
    "announce_no_leader": ("{label} {price}，暂无出价", "{label} {price}, no bids yet"),
    "announce_sold": (
        "成交价 {price}，买受人竞买号 {paddle}",
        "Final price {price}, winning paddle {paddle}",
    ),
    "time_left_words": ("剩余 {time}", "{time} left"),
    "unit_days": ("{n} 天", "{n} days"),
    "unit_day": ("{n} 天", "{n} day"),
    "unit_hours": ("{n} 小时", "{n} hours"),
    "unit_hour": ("{n} 小时", "{n} hour"),
    "unit_minutes": ("{n} 分", "{n} minutes"),
    "unit_minute": ("{n} 分", "{n} minute"),
    "unit_seconds": ("{n} 秒", "{n} seconds"),
    "unit_second": ("{n} 秒", "{n} second"),
    # clearing desk
    "clearing_title": ("清算台", "Clearing desk"),
    "fee_waiver_report": ("免收费用报告", "Fee-waiver report"),
    "period_from": ("起始日期", "From"),
    "period_to": ("截止日期", "To"),
    "show": ("查询", "Show"),
    "trades": ("成交笔数", "Trades"),
    "gross": ("应收", "Gross"),
    "waived": ("减免（免收）", "Waived"),
    "charged": ("实收", "Charged"),
    "by_month": ("按月份", "By month"),
    "by_institution": ("按机构", "By institution"),
    "month": ("月份", "Month"),
    "institution": ("机构", "Institution"),
    "totals": ("合计", "Totals"),
    "chart_by_month": ("按月份的免收费用", "Fees forgone by month"),
    "chart_by_institution": ("按机构的免收费用", "Fees forgone by institution"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "reconciliation": ("当日对账", "Reconciliation of the day"),
    "date": ("日期", "Date"),
    "clean": ("无差异", "Clean: no breaks"),
    "breaks": ("差异", "Breaks"),
    "break_kind": ("差异类型", "Kind"),
    "break_subject": ("对象", "Subject"),
    "break_detail": ("说明", "Detail"),
    "trades_settled": ("已交割成交", "Trades settled"),
    "trades_created": ("新成交", "Trades created"),
    "funds_records": ("资金记录", "Funds records"),
    "ledger_sum": ("账簿合计（应为零）", "Ledger sum (must be zero)"),
    "no_lines": ("本期无费用记录", "No fee lines in this period"),
    # errors
    "error_title": ("出错了", "Something is wrong"),
    "not_found": ("没有找到该页面", "Page not found"),
    "csrf_failed": (
        "表单已过期或来源不明，请刷新页面后重试",
        "The form expired or came from elsewhere; reload and retry",
    ),
    "back_to_catalogue": ("返回拍卖目录", "Back to the catalogue"),
}
assert all(len(pair) == 2 and all(pair) for pair in LABELS.values()), "every label needs both languages"

STATE_NAMES: dict[str, tuple[str, str]] = {
    "scheduled": ("未开始", "Scheduled"),
    "open": ("竞价中", "Open"),
    "closing": ("结算中", "Closing"),
    "awaiting_payment": ("待付款", "Awaiting payment"),
    "sold": ("已成交", "Sold"),
    "unsold": ("流拍", "Unsold"),
    "cancelled": ("已撤拍", "Cancelled"),
    "defaulted": ("悔拍", "Winner defaulted"),
}

DEPOSIT_STATES: dict[str, tuple[str, str]] = {
    "held": ("已冻结", "Held"),
    "applied": ("已抵作价款", "Applied to the price"),
    "refunded": ("已退还", "Refunded"),
    "forfeited": ("已没收", "Forfeited"),
}

KIND_NAMES: dict[str, tuple[str, str]] = {
    "invention_patent": ("发明专利", "Invention patent"),
    "utility_patent": ("实用新型专利", "Utility model"),
    "design_patent": ("外观设计专利", "Design patent"),
    "trademark": ("商标", "Trademark"),
    "copyright": ("著作权", "Copyright"),
    "software_copyright": ("软件著作权", "Software copyright"),
    "plant_variety": ("植物新品种权", "Plant variety right"),
    "geographic_indication": ("地理标志", "Geographic indication"),
    "collective_mark": ("集体商标", "Collective mark"),
    "certification_mark": ("证明商标", "Certification mark"),
    "data_right": ("数据产权", "Data right"),
    "ic_layout": ("集成电路布图设计", "IC layout design"),
    "real_estate": ("不动产", "Real estate"),
    "equipment": ("设备", "Equipment"),
    "receivable": ("应收账款", "Receivable"),
    "guarantee": ("保证", "Guarantee"),
}

# Refusals by their stable codes: why a bid, a registration or a login was refused.
REFUSALS: dict[str, tuple[str, str]] = {
    "not_started": ("拍卖尚未开始", "The auction has not started yet"),
    "closed": ("拍卖已结束，不能再出价", "The auction has closed"),
    "auction_not_running": ("拍卖已结束", "The auction is not running"),
    "below_minimum": ("出价低于最低有效出价 {minimum}", "The amount is below the minimum bid {minimum}"),
    "off_grid": (
        "出价不在加价幅度上，最近的有效出价为 {nearest_below} 或 {nearest_above}",
        "The amount is off the increment grid; the nearest valid amounts are {nearest_below} and {nearest_above}",
    ),
    "max_below_amount": ("代理最高价低于出价金额", "The maximum is below the bid amount"),
    "max_off_grid": (
        "代理最高价不在加价幅度上，最近的有效金额为 {nearest_below} 或 {nearest_above}",
        "The maximum is off the increment grid; the nearest valid amounts are {nearest_below} and {nearest_above}",
    ),
    "max_not_raised": (
        "您已领先；新出价须高于您原有的最高价 {minimum}",
        "You are leading; a new bid must raise your maximum above {minimum}",
    ),
    "already_sold": ("拍品已被他人接受", "Another bidder has already taken the lot"),
    "not_registered": ("请先报名并冻结保证金后再出价", "Register (and have the deposit held) before bidding"),
    "seller_cannot_bid": ("卖方不能参与竞买", "The seller cannot bid"),
    "barred_from_lot": ("您已被禁止参与此拍品", "You are barred from this lot"),
    "insufficient_funds": ("可用资金不足以冻结保证金", "Available funds do not cover the deposit"),
    "already_registered": ("您已报名此拍卖", "You are already registered"),
    "money_format": ("金额格式不正确，请输入元，最多两位小数", "Enter yuan with at most two decimals"),
    "amount_required": ("请填写出价金额", "Enter a bid amount"),
    "forbidden": ("此账户没有竞买人角色", "This account has no bidder role"),
}


# --- Catalogue: centralized sessions and the region filter (issue 16, the demo's part) ---------
CATALOGUE_SESSION_LABELS: dict[str, tuple[str, str]] = {
    "sessions_title": ("集中拍卖专场", "Centralized sessions"),
    "no_sessions": ("暂无专场", "No sessions"),
    "sessions_capped": ("仅显示最早开始的 {count} 个专场", "Showing the first {count} sessions"),
    "session_starts": ("开拍时间", "Opened"),
    "session_lots": ("共 {count} 件拍品", "{count} lots"),
    "session_stagger": ("拍品依次间隔 {seconds} 秒结束", "lots end {seconds} s apart"),
    "lot_number": ("序号", "No."),
    "all_lots": ("全部拍品", "All lots"),
    "region": ("地区", "Region"),
    "filter_region": ("地区", "Region"),
    "filter_all_regions": ("全部地区", "All regions"),
    "region_note": (
        "地区为借款人注册地（统一社会信用代码中的行政区划码所属省份）",
        "Region: where the borrower is registered (the province of the division code in its credit code)",
    ),
}
assert not CATALOGUE_SESSION_LABELS.keys() & LABELS.keys(), "a catalogue label shadows another"
assert all(len(pair) == 2 and all(pair) for pair in CATALOGUE_SESSION_LABELS.values())
LABELS.update(CATALOGUE_SESSION_LABELS)
# --- end of the catalogue's session labels ------------------------------------------------------


def language_of(cookie: str | None) -> str:
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE


def _pick(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "zh" else pair[1]


def translator(language: str) -> Callable[..., str]:
    """t("key", count=3) in the templates: the label in this language, with its fields filled in."""

    def translate(key: str, **fields: object) -> str:
        text = _pick(LABELS[key], language)
        return text.format(**fields) if fields else text

    return translate


def state_name(state: str, language: str) -> str:
    return _pick(STATE_NAMES.get(state, (state, state)), language)


def deposit_state_name(state: str, language: str) -> str:
    return _pick(DEPOSIT_STATES.get(state, (state, state)), language)


def kind_name(kind: str, language: str) -> str:
    return _pick(KIND_NAMES.get(kind, (kind, kind)), language)


def refusal_text(code: str, fallback: str, language: str, fields: dict[str, str]) -> str:
    """The refusal in this language; amounts already formatted by the caller."""
    pair = REFUSALS.get(code)
    if pair is None:
        return fallback
    try:
        return _pick(pair, language).format(**fields)
    except KeyError:  # a refusal without the amounts its sentence names: say it without them
        return _pick(pair, language).split("{")[0].rstrip(" ，,;；为")


# ---------------------------------------------------------------------------------------------
# The bank and agency desks (app/pages/bank_desk.py, agency_desk.py): their labels, kept apart from
# LABELS above so that other pages' labels merge without touching these lines.
# key: (中文, English)
DESK_LABELS: dict[str, tuple[str, str]] = {
    "nav_bank_desk": ("银行工作台", "Bank desk"),
    "nav_agency_desk": ("收储机构工作台", "Agency desk"),
    "page_previous": ("上一页", "Previous"),
    "page_next": ("下一页", "Next"),
    "page_of": ("第 {number}/{pages} 页，共 {total} 条", "Page {number} of {pages}, {total} in all"),
    "rows_total": ("共 {total} 条", "{total} in all"),
    "none_yet": ("暂无记录", "Nothing yet"),
    "amount_yuan": ("金额", "Amount"),
    "result": ("结果", "Result"),
    "deadline": ("期限", "Deadline"),
    # bank desk
    "bank_desk_title": ("银行工作台", "Bank desk"),
    "my_loans": ("我的贷款", "My loans"),
    "loan": ("贷款", "Loan"),
    "borrower": ("借款人", "Borrower"),
    "outstanding_principal": ("未偿本金", "Outstanding principal"),
    "ip_share": ("知识产权占比", "IP share"),
    "escrow_balance": ("年费托管余额", "Annuity escrow"),
    "annuity_coverage": ("年费未覆盖金额", "Annuities not covered"),
    "my_cases": ("我的处置案件", "My disposal cases"),
    "case_heading": ("处置案件 #{case_id}（贷款 #{loan_id}）", "Case #{case_id} (loan #{loan_id})"),
    "claim_total": ("债权合计", "Claim"),
    "proceeds_total": ("处置所得", "Proceeds"),
    "current_deadline": ("当前期限", "Current deadline"),
    "shortfall": ("不足部分", "Shortfall"),
    "surplus": ("剩余部分", "Surplus"),
    "steps": ("处置步骤", "Steps"),
    "step_kind": ("步骤", "Step"),
    "round": ("轮次", "Round"),
    "auction": ("拍卖", "Auction"),
    "auction_room_link": ("拍卖室 #{auction_id}", "Room #{auction_id}"),
    "no_steps": ("尚无处置步骤", "No steps yet"),
    "waterfall": ("清偿顺序分配", "Waterfall"),
    "waterfall_chart": ("案件 #{case_id} 的分配", "Case #{case_id}: the waterfall"),
    "no_waterfall": ("尚未分配", "Not split yet"),
    "part": ("清偿项目", "Part"),
    "payee": ("收款人", "Payee"),
    "rule": ("依据", "Rule"),
    "compensation_lines": ("风险补偿", "Risk compensation"),
    "fund": ("补偿基金", "Fund"),
    "line_kind": ("类型", "Kind"),
    "holder": ("持有人", "Holder"),
    "no_compensation": ("无风险补偿记录", "No compensation lines"),
    "my_listings": ("我的挂牌", "My listings"),
    "listing_kind": ("转让方式", "Transfer"),
    "listing_mode": ("交易方式", "Mode"),
    "share": ("份额", "Share"),
    "asking_price": ("挂牌价", "Asking price"),
    "my_trades": ("我的成交", "My trades"),
    "side": ("买卖方向", "Side"),
    "side_seller": ("卖方", "Seller"),
    "side_buyer": ("买方", "Buyer"),
    "trade_price": ("成交价", "Price"),
    "my_alerts": ("我的提醒", "My alerts"),
    "alert_kind": ("提醒", "Alert"),
    "due_on": ("到期日", "Due on"),
    "raised_at": ("提醒时间", "Raised at"),
    "no_alerts": ("暂无提醒", "No alerts"),
    # agency desk
    "agency_desk_title": ("收储机构工作台", "Agency desk"),
    "my_offers": ("收储报价", "Buyout offers"),
    "case": ("处置案件", "Case"),
    "pool": ("运营池", "Pool"),
    "offer_price": ("报价", "Price"),
    "valid_until": ("有效期至", "Valid until"),
    "held_amount": ("冻结金额", "Held"),
    "my_commitments": ("收储承诺", "Buyout commitments"),
    "kinds": ("质押物类型", "Kinds"),
    "price_of_appraisal": ("报价（评估价比例）", "Price (of appraisal)"),
    "budget": ("预算", "Budget"),
    "offered": ("报价占用", "In live offers"),
    "spent": ("已使用", "Spent"),
    "my_pools": ("我的运营池", "My pools"),
    "pool_heading": ("运营池 #{pool_id}：{name}", "Pool #{pool_id}: {name}"),
    "assets": ("资产", "Assets"),
    "assets_shown": ("显示 {shown}/{total} 项资产", "Showing {shown} of {total} assets"),
    "acquisition_price": ("收购价", "Acquisition price"),
    "acquired_at": ("收购时间", "Acquired"),
    "source_case": ("来源案件", "Source case"),
    "licences": ("许可", "Licences"),
    "licence_kind": ("许可类型", "Licence"),
    "licensee": ("被许可人", "Licensee"),
    "territory": ("地域", "Territory"),
    "field_of_use": ("领域", "Field"),
    "upfront": ("入门费", "Upfront"),
    "royalty": ("提成费率", "Royalty"),
    "term_dates": ("期限", "Term"),
    "no_licences": ("暂无许可", "No licences"),
    "revenue_by_month": ("按月收入", "Revenue by month"),
    "revenue_chart": ("运营池 #{pool_id} 按月收入", "Pool #{pool_id}: revenue by month"),
    "revenue": ("收入", "Revenue"),
    "earn_out": ("对赌分成", "Earn-out"),
    "agency_part": ("机构所得", "To the agency"),
    "no_revenue": ("暂无收入", "No revenue"),
    "earn_outs": ("对赌分成进度", "Earn-out progress"),
    "earn_out_share": ("分成比例", "Share"),
    "paid": ("已支付", "Paid"),
    "cap": ("上限", "Cap"),
    "until": ("截止", "Until"),
    "progress": ("进度", "Progress"),
    "earn_out_progress_label": (
        "资产 #{asset_id} 对赌分成已支付 {paid}，上限 {cap}",
        "Asset #{asset_id}: {paid} paid of {cap}",
    ),
    "no_earn_outs": ("无对赌分成", "No earn-outs"),
}
assert all(len(pair) == 2 and all(pair) for pair in DESK_LABELS.values()), "every label needs both languages"
assert not DESK_LABELS.keys() & LABELS.keys(), "a desk label must not shadow another page's"
LABELS.update(DESK_LABELS)

# The words of the domain the desks show (states, kinds, results); a value not here shows as it is.
DESK_TERMS: dict[str, tuple[str, str]] = {
    # loans and collateral
    "performing": ("正常", "Performing"),
    "overdue": ("逾期", "Overdue"),
    "non_performing": ("不良", "Non-performing"),
    "defaulted": ("已违约", "Defaulted"),
    "pledged": ("质押中", "Pledged"),
    "in_disposal": ("处置中", "In disposal"),
    "released": ("已解押", "Released"),
    "delivered": ("已交付", "Delivered"),
    "lapsed": ("已失效（欠缴年费）", "Lapsed (annuity unpaid)"),
    # disposal cases, outcomes, steps
    "awaiting_round": ("待组织拍卖", "Awaiting a round"),
    "in_round": ("拍卖中", "In a round"),
    "take_in_payment_offered": ("待决定以物抵债", "Take in payment offered"),
    "fixed_price_sale": ("变卖", "Fixed-price sale"),
    "buyout_window": ("收储窗口", "Buyout window"),
    "settling": ("分配中", "Settling"),
    "settled": ("已分配", "Settled"),
    "cured": ("已纠正", "Cured"),
    "sold": ("已成交", "Sold"),
    "taken_in_payment": ("以物抵债", "Taken in payment"),
    "unsold": ("流拍", "Unsold"),
    "bought_out": ("第三方收储", "Bought out"),
    "round": ("拍卖轮次", "Auction round"),
    "take_in_payment": ("以物抵债", "Take in payment"),
    "running": ("进行中", "Running"),
    "awaiting_payment": ("待付款", "Awaiting payment"),
    "winner_defaulted": ("悔拍", "Winner defaulted"),
    "declined": ("已拒绝", "Declined"),
    "accepted": ("已接受", "Accepted"),
    "expired": ("已过期", "Expired"),
    "cancelled": ("已取消", "Cancelled"),
    # the parts of a waterfall, prefixed: "round" and others are words of their own
    "part:costs": ("实现债权的费用", "Costs"),
    "part:interest": ("利息", "Interest"),
    "part:principal": ("本金", "Principal"),
    "part:surplus": ("剩余（归出质人）", "Surplus (pledgor)"),
    # compensation lines
    "advance": ("先行代偿", "Advance"),
    "top_up": ("补足", "Top-up"),
    "refund": ("退回", "Refund"),
    "clawback": ("回收分享", "Clawback"),
    # market
    "whole_loan": ("整笔转让", "Whole loan"),
    "income_right": ("收益权转让", "Income right"),
    "negotiated": ("协议转让", "Negotiated"),
    "auction": ("竞价转让", "Auction"),
    "subscription": ("份额认购", "Subscription"),
    "open": ("挂牌中", "Open"),
    "matched": ("已成交", "Matched"),
    "closed": ("已关闭", "Closed"),
    "withdrawn": ("已撤回", "Withdrawn"),
    "pending": ("待交割", "Pending"),
    "failed": ("交割失败", "Failed"),
    # alerts
    "escrow_short": ("年费托管不足", "Escrow short"),
    "annuity_in_grace": ("年费已进入滞纳期", "Annuity in grace"),
    "annuity_lapsed": ("专利已因欠费失效", "Patent lapsed"),
    # buyout offers and commitments, licences
    "live": ("有效", "Live"),
    "voided": ("已作废", "Voided"),
    # licence kinds, prefixed: "open" is also a listing's state
    "licence:exclusive": ("独占许可", "Exclusive"),
    "licence:sole": ("排他许可", "Sole"),
    "licence:non_exclusive": ("普通许可", "Non-exclusive"),
    "licence:open": ("开放许可", "Open licence"),
}
assert all(len(pair) == 2 and all(pair) for pair in DESK_TERMS.values()), "every term needs both languages"


def term(value: str, language: str) -> str:
    """A state, kind or result of the domain in this language; an unknown value as it is."""
    return _pick(DESK_TERMS.get(value, (value, value)), language)


# The waterfall's lines carry their legal basis as the rules wrote it (auction.disposal.rules.waterfall,
# stored with the line); a Chinese page reads it in Chinese. A basis of another shape shows as stored.
_ORDERED_BASIS = re.compile(r"^(民法典第561条) order ([a-z,]+): (.+)$")
_SHARE_BASIS = re.compile(r"^([a-z]+) by share (\d+) ppm, largest remainder$")
_PART_ZH = {"costs": "费用", "interest": "利息", "principal": "本金"}


def waterfall_basis(rule: str, language: str) -> str:
    """A waterfall line's basis in this language: the article, the order of the parts, and how the
    part was split among the holders."""
    if language != "zh":
        return rule
    if rule == "民法典第438条: surplus to the pledgor":
        return "民法典第438条：剩余归出质人"
    ordered = _ORDERED_BASIS.match(rule)
    if ordered is None:
        return rule
    article, order_text, how = ordered.groups()
    order_zh = "→".join(_PART_ZH.get(part, part) for part in order_text.split(","))
    if how == "realization costs to the creditor who bore them":
        return f"{article}，顺序 {order_zh}：实现债权的费用归承担费用的债权人"
    shared = _SHARE_BASIS.match(how)
    if shared is None or shared.group(1) not in _PART_ZH:
        return rule
    percent = f"{int(shared.group(2)) / 10_000:.4f}".rstrip("0").rstrip(".")
    return f"{article}，顺序 {order_zh}：{_PART_ZH[shared.group(1)]}按份额 {percent}% 分配（最大余额法）"


# --- The desks' CSV downloads (app/pages/desk_access.table_csv): column headers the page has no
# label for (ids, a second kind or state), the clearing fee lines' codes, the truncation line ---
DESK_CSV_LABELS: dict[str, tuple[str, str]] = {
    "csv_loan_id": ("贷款编号", "Loan ID"),
    "csv_loan_status": ("贷款状态", "Loan status"),
    "csv_collateral_id": ("质押物编号", "Collateral ID"),
    "csv_collateral_kind": ("质押物类型", "Collateral kind"),
    "csv_collateral_state": ("质押物状态", "Collateral state"),
    "csv_listing_id": ("挂牌编号", "Listing ID"),
    "csv_trade_id": ("成交编号", "Trade ID"),
    "csv_created_at": ("创建时间", "Created at"),
    "csv_settled_at": ("交割时间", "Settled at"),
    "csv_case_id": ("处置案件编号", "Case ID"),
    "csv_step_number": ("步骤序号", "Step no."),
    "csv_auction_id": ("拍卖编号", "Auction ID"),
    "csv_line_number": ("分配行号", "Line no."),
    "csv_payee_id": ("收款人编号", "Payee ID"),
    "csv_holder_id": ("持有人编号", "Holder ID"),
    "csv_alert_id": ("提醒编号", "Alert ID"),
    "csv_annuity_id": ("年费编号", "Annuity ID"),
    "csv_offer_id": ("报价编号", "Offer ID"),
    "csv_pool_id": ("运营池编号", "Pool ID"),
    "csv_commitment_id": ("收储承诺编号", "Commitment ID"),
    "csv_earn_out_cap": ("对赌分成上限", "Earn-out cap"),
    "csv_earn_out_until": ("对赌分成截止", "Earn-out until"),
    "csv_max_price_per_case": ("单案最高价", "Max price per case"),
    "csv_unheld": ("未冻结", "Unheld"),
    "csv_released": ("已释放", "Released"),
    "csv_asset_id": ("资产编号", "Asset ID"),
    "csv_licence_id": ("许可编号", "Licence ID"),
    "csv_starts_on": ("起始日", "Starts on"),
    "csv_ends_on": ("终止日", "Ends on"),
    "csv_fee_line_id": ("费用行编号", "Fee line ID"),
    "csv_trade_date": ("成交日期", "Trade date"),
    "csv_ip_pledge": ("知识产权质押", "IP pledge"),
    "csv_fee_item": ("费用项目", "Fee item"),
    "csv_payer": ("付费方", "Payer"),
    "csv_payer_id": ("付费方编号", "Payer ID"),
    "csv_fee_rule": ("收费依据", "Fee rule"),
    "csv_yes": ("是", "Yes"),
    "csv_no": ("否", "No"),
    "csv_fee_item_registration": ("登记费", "Registration fee"),
    "csv_fee_item_listing": ("挂牌费", "Listing fee"),
    "csv_fee_item_transaction": ("交易手续费", "Transaction fee"),
    "csv_fee_rule_ip_pledge_waiver_2025": (
        "知识产权质押免收（金发〔2025〕10号）",
        "IP-pledge waiver (金发〔2025〕10号)",
    ),
    "csv_fee_rule_schedule": ("按收费标准", "Fee schedule"),
    "csv_break_code": ("差异代码", "Break code"),
    "csv_truncated": (
        "本文件不完整：超过行数上限，仅包含前 {rows} 行",
        "This file is incomplete: the table passed the row limit; only its first {rows} rows are here",
    ),
}
assert not DESK_CSV_LABELS.keys() & LABELS.keys(), "a CSV label shadows another"
assert all(len(pair) == 2 and all(pair) for pair in DESK_CSV_LABELS.values())
LABELS.update(DESK_CSV_LABELS)
# --- end of the desks' CSV labels ----------------------------------------------------------------
