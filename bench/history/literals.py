"""What the month statements are filled with: the text people type, the center's settings, and SQL literals."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from bench.history.people import FIRST_NAMES, LAST_NAMES, SPOTS, STREETS
from bench.history.plan import Plan, Volumes
from bench.history.sql_base import cumulative, sql_array, sql_text
from taxicrm.settings import load_settings

SELF_SERVICE_SHARE = 0.10
DETAIL_DAYS = 14  # Rides this recent keep their fare documents' lines; older ones a summary (disk space).

# Text people type, as data.
NOTES = ("زنگ واحد ۳ را بزنید", "جلوی درب پارکینگ منتظرم", "با چمدان", "لطفاً قبل از رسیدن تماس بگیرید",
         "کنار داروخانه", "Please call on arrival")
EARLY_CANCEL = ("مسافر منصرف شد", "مسافر با تاکسی دیگری رفت", "Customer changed their mind", "رزرو تکراری",
                "مسافر زمان را اشتباه گفته بود")
LATE_CANCEL = ("راننده دیر کرد", "مسافر منصرف شد", "Driver too far away", "مسافر تماس گرفت و لغو کرد",
               "مسافر پاسخ نداد")
DECLINE_REASONS = ("مسیر دور است", "ترافیک سنگین", "در حال استراحت", "Too far")
COMPLAINT_CATEGORIES = {
    "done": {"late_pickup": 16, "rude_driver": 18, "fare_dispute": 18, "unsafe_driving": 10, "wrong_route": 12,
             "vehicle_condition": 10, "lost_item": 7, "operator_behaviour": 5, "other": 4},
    "cancel": {"late_pickup": 50, "driver_no_show": 25, "operator_behaviour": 15, "other": 10},
    "noshow": {"driver_no_show": 60, "fare_dispute": 20, "other": 20},
    "nd": {"late_pickup": 45, "operator_behaviour": 30, "other": 25},
    "praise": {"courteous_driver": 35, "safe_driving": 20, "on_time": 15, "clean_vehicle": 12,
               "helpful_operator": 8, "item_returned": 5, "praise_other": 5},
}
DESCRIPTIONS = {
    "late_pickup": ["راننده بیش از بیست دقیقه دیر رسید", "خیلی منتظر ماندم تا ماشین برسد", "The car came very late"],
    "driver_no_show": ["راننده اصلاً نیامد", "راننده گفت رسیده ولی نبود", "Driver never showed up"],
    "rude_driver": ["راننده بی‌ادبی کرد", "برخورد راننده بسیار بد بود", "The driver was rude"],
    "unsafe_driving": ["راننده با سرعت زیاد رانندگی می‌کرد", "راننده پشت فرمان با تلفن حرف می‌زد",
                       "Dangerous driving"],
    "fare_dispute": ["کرایه بیشتر از مبلغ اعلام‌شده گرفته شد", "راننده پول خرد پس نداد", "Charged more than quoted"],
    "wrong_route": ["راننده مسیر را طولانی کرد", "از مسیر اشتباه رفت", "Took a long way round"],
    "vehicle_condition": ["ماشین کثیف بود", "کولر ماشین کار نمی‌کرد", "The car was in poor condition"],
    "lost_item": ["کیفم در ماشین جا ماند", "گوشی‌ام در تاکسی جا ماند", "Left my bag in the car"],
    "operator_behaviour": ["اپراتور بدبرخورد بود", "اپراتور آدرس را اشتباه ثبت کرد", "The operator hung up on me"],
    "other": ["مشکل دیگری داشتم", "پیگیری درخواست قبلی", "Other issue"],
    "courteous_driver": ["راننده بسیار مؤدب بود", "از برخورد خوب راننده تشکر می‌کنم", "Very polite driver"],
    "safe_driving": ["راننده با احتیاط رانندگی کرد", "رانندگی آرام و مطمئن", "Safe and careful driving"],
    "on_time": ["راننده سر وقت رسید", "دقیقاً سر ساعت آمد", "Right on time"],
    "clean_vehicle": ["ماشین تمیز و مرتب بود", "خودرو بسیار تمیز بود", "Clean, comfortable car"],
    "helpful_operator": ["اپراتور خیلی کمک کرد", "از اپراتور محترم تشکر می‌کنم", "Helpful operator"],
    "item_returned": ["راننده کیفم را برگرداند", "گوشی جامانده را راننده آورد", "The driver returned my phone"],
    "praise_other": ["از خدمات خوب شما ممنونم", "سرویس عالی بود", "Great service"],
}
OUTCOME_NOTES = {"no_action": "بررسی شد؛ اقدامی لازم نبود", "warning": "به راننده تذکر داده شد",
                 "refund": "مبلغ اضافه به مسافر بازگردانده شد", "commended": "از راننده قدردانی شد"}
COMMENTS = ("با مسافر تماس گرفته شد", "با راننده تماس گرفته شد", "منتظر پاسخ راننده", "Called the customer back",
            "مسیر سفر بررسی شد")
RATING_COMMENTS = ("خیلی بد بود", "راضی نبودم", "معمولی", "خوب بود، ممنون", "عالی بود، ممنون از راننده")


@dataclass
class Context:
    """What every month's statements are filled with."""

    volumes: Volumes
    plan: Plan
    constants: dict[str, object] = field(default_factory=dict)
    call_bases: list[int] = field(default_factory=list)


def constants(plan: Plan, supervisors: list[int], pool_sizes: list[int]) -> dict[str, object]:
    """The literals the month statements use."""
    settings = load_settings({})
    first = settings.complaint_first_response_minutes
    resolution = settings.complaint_resolution_hours
    values: dict[str, object] = {
        "tz": sql_text(plan.tz.key), "end_at": sql_text(plan.end_at.isoformat()),
        "detail_from": sql_text((plan.end_at - timedelta(days=DETAIL_DAYS)).isoformat()),
        "holidays": sql_array([d.isoformat() for d in sorted(plan.holidays)], "date"),
        "self_service": SELF_SERVICE_SHARE, "lead": settings.prebooking_lead_minutes,
        "max_tries": settings.offer_max_tries, "offer_timeout": settings.offer_timeout_seconds,
        "retry": settings.unassigned_retry_seconds, "give_up": settings.unassigned_give_up_minutes,
        "road_factor": settings.road_factor, "average_speed": settings.average_speed_kmh,
        "spot_cum": sql_array(cumulative([s[3] for s in SPOTS]), "float8"),
        "pool_sizes": sql_array(pool_sizes, "int"),
        "streets": sql_array(STREETS, "text"), "n_streets": len(STREETS),
        "notes": sql_array(NOTES, "text"), "n_notes": len(NOTES),
        "early_reasons": sql_array(EARLY_CANCEL, "text"), "n_early": len(EARLY_CANCEL),
        "late_reasons": sql_array(LATE_CANCEL, "text"), "n_late": len(LATE_CANCEL),
        "decline_reasons": sql_array(DECLINE_REASONS, "text"), "n_decline": len(DECLINE_REASONS),
        "customer_cancel": sql_text("Cancelled by the customer on the booking page."),
        "online_name": sql_text("Online customer"),
        "first_names": sql_array([f"{f} {ln}" for f in FIRST_NAMES[:12] for ln in LAST_NAMES[:6]], "text"),
        "n_first": 72,
        "complaint_rate": 0.0011, "praise_rate": 0.0005,
        "descriptions": sql_text(json.dumps(DESCRIPTIONS, ensure_ascii=False)),
        "outcome_notes": sql_text(json.dumps(OUTCOME_NOTES, ensure_ascii=False)),
        "comments": sql_array(COMMENTS, "text"), "n_comments": len(COMMENTS),
        "rating_comments": sql_array(RATING_COMMENTS, "text"),
        "supervisors": sql_array(supervisors, "bigint"), "n_supervisors": len(supervisors),
        **{f"fr_{p}": first[p] for p in ("urgent", "high", "normal", "low")},
        **{f"res_{p}": resolution[p] for p in ("urgent", "high", "normal", "low")},
    }
    for name, weights in COMPLAINT_CATEGORIES.items():
        values[f"{name}_codes"] = sql_array(list(weights), "text")
        values[f"{name}_cum"] = sql_array(cumulative(list(weights.values())), "float8")
    return values
