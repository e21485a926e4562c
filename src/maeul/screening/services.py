"""Screening actions: the only code that writes runs, candidates, outreach, model versions, the national list and
review requests. Scope follows ``Resource.SCREENING`` and ``Resource.SCREENING_MODEL`` in the permission matrix.

A score never opens or denies anything by itself: it orders a list that people work through. What they find is
recorded here; a need opens a welfare case and "no contact" or "wrong address" an address/contact check, both
through ``welfare.services``; the result is the label the next model learns from.

Every web process and ``maeul worker`` imports this module (through the views, the template tags and the URLconf),
so it imports the batch side — Arrow, Ibis and DuckDB (``pipeline``, ``batch``), scikit-learn (``model``) — only
inside the functions that run a screening or train a model: loaded at import, those libraries added about 200 MB
to each process and nearly doubled the objects every full garbage collection walks. The pages use ``explanations``
and ``problems``, which need none of them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from maeul.accounts.models import Membership
from maeul.accounts.policy import Action, Resource, Scope
from maeul.accounts.principal import Principal
from maeul.accounts.roles import Role
from maeul.areas.models import Area
from maeul.audit import services as audit
from maeul.audit.models import AuditAction
from maeul.audit.services import Actor
from maeul.events import services as events
from maeul.people import services as people
from maeul.people.errors import NotFound
from maeul.protection import fields
from maeul.safetynet import services as safetynet
from maeul.screening.catalogue import BY_CODE, CODES
from maeul.screening.explanations import Factor, explain, phrase
from maeul.screening.models import (
    Candidate,
    FlaggedPerson,
    Method,
    ModelStatus,
    ModelVersion,
    Outreach,
    OutreachStatus,
    QuarantinedRow,
    Result,
    ReviewKind,
    ReviewRequest,
    ReviewStatus,
    RunStatus,
    ScreeningRun,
    SubjectLink,
)
from maeul.screening.problems import KEY_PATTERN, RRN_PATTERN, RRN_REASON, IntakeRejected, Problem
from maeul.sensing import services as sensing
from maeul.welfare import services as welfare

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from maeul.screening import batch
    from maeul.screening import model as risk

RUN = "screening_run"
CANDIDATE = "screening_candidate"
MODEL = "screening_model"
FLAGGED = "screening_flagged"
REVIEW = "screening_review"

# PIPA Enforcement Decree Art. 44-3: a request about an automated decision is answered within 30 days.
RESPONSE_DAYS = 30
# A household checked (by a helper, or by a screening visit) this recently is not listed again.
RECENT_CHECK_DAYS = 60
QUARANTINE_KEPT = 10000  # quarantined rows stored per run; the count is always complete
ASSIGNABLE_ROLES = (Role.WELFARE_OFFICIAL, Role.SAFETY_OFFICIAL, Role.HELPER)
# Results that say something about need become training labels; the others do not.
LABEL_OF: dict[str, str] = {
    Result.IN_NEED: "in_need",
    Result.NOT_IN_NEED: "not_in_need",
    Result.ALREADY_SUPPORTED: "not_in_need",
}
# The national system's result categories for reporting back (발굴 결과).
NATIONAL_RESULT = {
    Result.IN_NEED: "support_linked",
    Result.NOT_IN_NEED: "not_eligible",
    Result.ALREADY_SUPPORTED: "already_supported",
    Result.NO_CONTACT: "no_contact",
    Result.WRONG_ADDRESS: "address_unknown",
    Result.REFUSED: "refused",
}
NATIONAL_COLUMNS = (
    "national_case_no", "round", "household_key", "person_key", "name", "birth_date", "sex", "area_code", "address",
    "phone", "indicators",
)  # fmt: skip


class ScreeningError(Exception):
    def __init__(self, field: str, code: str, message: str) -> None:
        self.field, self.code, self.message = field, code, message
        super().__init__(message)


class NationalListRejected(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problems; nothing was imported")


# --- scope -------------------------------------------------------------------------------------------------------


def visible_candidates(principal: Principal, action: Action = Action.VIEW) -> QuerySet[Candidate]:
    """Officials: their areas; administrators: the site; a helper: the candidates assigned to them."""
    scope = principal.scope(Resource.SCREENING, action)
    qs = Candidate.objects.filter(run__status=RunStatus.APPLIED)
    if principal.site_id is None:
        return qs.none()
    if scope == Scope.SITE:
        return qs.filter(site_id=principal.site_id)
    if scope == Scope.AREA:
        return qs.filter(site_id=principal.site_id, area_id__in=principal.area_codes)
    if scope == Scope.GRANTED and principal.user_id is not None:
        return qs.filter(site_id=principal.site_id, outreach__assigned_to_id=principal.user_id)
    return qs.none()


def _candidate(principal: Principal, candidate_id: int, action: Action) -> Candidate:
    found = visible_candidates(principal, action).select_related("run", "outreach", "flagged").filter(pk=candidate_id)
    candidate = found.first()
    if candidate is None:
        raise NotFound("candidate", candidate_id)
    return candidate


def _site_scope(principal: Principal, resource: Resource, action: Action) -> int:
    if principal.scope(resource, action) != Scope.SITE or principal.site_id is None:
        raise NotFound("site", principal.site_id or 0)
    return principal.site_id


def _event(event_kind: str, actor: Actor, site_id: int, **values: Any) -> None:
    area = values.pop("area_code", None)
    household = values.pop("household_id", None)
    subject = values.pop("subject", None)
    events.record(
        event_kind,
        site_id=site_id,
        area_code=area,
        household_id=household,
        subject=subject,
        actor_role=actor.principal.role or "",
        data=values,
    )


# --- explanations ------------------------------------------------------------------------------------------------


def factors_of(candidate: Candidate) -> list[Factor]:
    return [Factor(f["code"], int(f["value"]), float(f["weight"])) for f in candidate.factors]


def explanation(candidate: Candidate) -> str:
    """The plain-word reasons of a rank, in the active language."""
    return explain(factors_of(candidate))


def explanation_for_resident(candidate: Candidate) -> str:
    """What a resident is told under PIPA Art. 37-2: the reasons, how the list is made, and that a person decides."""
    scorer = (
        _("a risk model (version %(version)s) approved by an official") % {"version": candidate.run.model.version}
        if candidate.run.model_id and candidate.run.model is not None
        else _("the number of risk indicators")
    )
    return _(
        "In the screening of %(period)s your household was placed on the list of households to contact, ranked by "
        "%(scorer)s. The information that weighed most: %(reasons)s. The list only decides whom officials contact "
        "first; no support was opened or refused because of it, and a person reviews everything."
    ) % {"period": candidate.run.period, "scorer": scorer, "reasons": explanation(candidate)}


# --- runs --------------------------------------------------------------------------------------------------------


def model_in_use(site_id: int) -> ModelVersion | None:
    return ModelVersion.objects.filter(site_id=site_id, status=ModelStatus.APPROVED).first()


def _load(version: ModelVersion) -> risk.TrainedModel:
    from maeul.screening import model as risk

    blob = bytes(version.blob)
    if hashlib.sha256(blob).hexdigest() != version.sha256:
        raise ScreeningError("model", "model_damaged", _("The stored model does not match its checksum."))
    return risk.TrainedModel.loads(blob)


def _links(site_id: int) -> dict[str, int]:
    return dict(SubjectLink.objects.filter(site_id=site_id).values_list("household_key", "household_id"))


def maeul_signals(site_id: int, as_of: date) -> pa.Table | None:
    """Maeul's own indicators for the households the site has linked: the sensors' activity trend and the safety
    net's crisis signs and unanswered check-ins over the screening period (two months)."""
    import pyarrow as pa

    links = _links(site_id)
    if not links:
        return None
    ids = list(links.values())
    now = timezone.make_aware(datetime.combine(as_of, time()))
    decline = sensing.activity_decline(ids, now)
    signals = safetynet.screening_signals(ids, now - timedelta(days=62))
    rows = [
        (key, decline.get(hid, 0), *signals.get(hid, (0, 0)))
        for key, hid in links.items()
        if decline.get(hid, 0) or hid in signals
    ]
    if not rows:
        return None
    return pa.table(
        {
            "household_key": pa.array([r[0] for r in rows], pa.string()),
            "activity_decline_pct": pa.array([min(100, r[1]) for r in rows], pa.int64()),
            "helper_crisis_signs": pa.array([min(50, r[2]) for r in rows], pa.int64()),
            "unanswered_check_ins": pa.array([min(50, r[3]) for r in rows], pa.int64()),
        }
    )


def exclusions(site_id: int, as_of: date) -> set[str]:
    """Keys not to list again: a household with an open case, checked by a helper, or visited by screening in the
    last ``RECENT_CHECK_DAYS`` days (whatever the result, unless it is still being verified)."""
    links = _links(site_id)
    by_household = {hid: key for key, hid in links.items()}
    since = timezone.make_aware(datetime.combine(as_of - timedelta(days=RECENT_CHECK_DAYS), time()))
    ids = list(by_household)
    skip = welfare.households_with_open_case(ids) | safetynet.checked_since(ids, since)
    keys = {by_household[h] for h in skip}
    keys |= set(
        Outreach.objects.filter(
            candidate__site_id=site_id, recorded_at__gte=since, status=OutreachStatus.DONE
        ).values_list("candidate__household_key", flat=True)
    )
    return keys


def _period(as_of: date) -> str:
    return f"{as_of.year}-{(as_of.month + 1) // 2:02d}"


def run_screening(
    actor: Actor,
    directory: Path,
    *,
    as_of: date,
    capacity_per_area: int,
    engine: str = "duckdb",
    spark: Any = None,
) -> ScreeningRun:
    """Screen the site's files in ``directory`` and store the outreach list — all of it or, when the files are
    rejected, nothing but the rejected run and its reasons. Uses the approved model, else the rule baseline."""
    from maeul.screening import batch, pipeline

    site_id = _site_scope(actor.principal, Resource.SCREENING, Action.IMPORT)
    if not 1 <= capacity_per_area <= 10000:
        raise ScreeningError("capacity_per_area", "capacity", _("Capacity per area must be between 1 and 10,000."))
    started = timezone.now()
    version = model_in_use(site_id)
    trained = _load(version) if version else None
    area_codes = list(Area.objects.filter(member_of_sites__id=site_id).values_list("code", flat=True))
    excluded = exclusions(site_id, as_of)
    con = pipeline.engine(engine, spark)
    base = {
        "site_id": site_id,
        "period": _period(as_of),
        "as_of": as_of,
        "scorer": "model" if trained else "rule",
        "model": version,
        "engine": engine,
        "started_at": started,
        "started_by_id": actor.principal.user_id,
        "capacity_per_area": capacity_per_area,
    }
    try:
        result = batch.screen(
            con,
            directory,
            as_of=as_of,
            area_codes=area_codes,
            capacity_per_area=capacity_per_area,
            trained=trained,
            exclude=excluded,
            signals=maeul_signals(site_id, as_of),
        )
    except IntakeRejected as exc:
        run = ScreeningRun.objects.create(
            **base,
            status=RunStatus.REJECTED,
            finished_at=timezone.now(),
            problems=[[p.file, p.row, p.column, p.reason] for p in exc.problems[:1000]],
        )
        audit.log(actor, AuditAction.IMPORT, RUN, object_id=run.pk, site_id=site_id, reason="rejected")
        _event("screening.run_rejected", actor, site_id, subject=(RUN, run.pk), problems=len(exc.problems))
        return run
    return _store(actor, base, result, trained, len(excluded))


@transaction.atomic
def _store(
    actor: Actor, base: dict[str, Any], result: batch.BatchResult, trained: risk.TrainedModel | None, excluded: int
) -> ScreeningRun:
    import pyarrow as pa
    import pyarrow.compute as pc

    from maeul.screening import model as risk

    site_id = base["site_id"]
    run = ScreeningRun.objects.create(
        **base,
        status=RunStatus.APPLIED,
        finished_at=timezone.now(),
        households=result.features.num_rows,
        rows_read=result.data.rows_read,
        quarantined=len(result.data.quarantined),
        excluded=excluded,
        sources=[
            {
                "file": f.name,
                "source": f.source,
                "institution": f.institution,
                "refreshed_on": f.refreshed_on.isoformat(),
            }
            for f, _table in result.data.sources
        ],
        stale=result.data.stale,
        timings={k: round(v, 3) for k, v in result.timings.items()},
    )
    QuarantinedRow.objects.bulk_create(
        [QuarantinedRow(run=run, file=p.file, row=p.row, column=p.column, reason=p.reason)
         for p in result.data.quarantined[:QUARANTINE_KEPT]]
    )  # fmt: skip
    ranked = result.ranked
    listed = result.features.filter(
        pc.is_in(result.features.column("household_key"), value_set=ranked["household_key"])
    )
    by_key = {row["household_key"]: row for row in listed.to_pylist()}
    keys = ranked.column("household_key").to_pylist()
    weights: np.ndarray | None = None
    if trained is not None and keys:
        weights = risk.contributions(trained, risk.matrix(pa.Table.from_pylist([by_key[k] for k in keys])))
    links = _links(site_id)
    flagged = dict(
        FlaggedPerson.objects.filter(site_id=site_id, household_key__in=keys)
        .order_by("household_key", "-round")
        .values_list("household_key", "pk")
    )
    candidates = []
    for i, row in enumerate(ranked.to_pylist()):
        features = by_key[row["household_key"]]
        factors = risk.top_factors(features, weights[i] if weights is not None else None)
        candidates.append(
            Candidate(
                run=run,
                site_id=site_id,
                area_id=row["area_code"],
                household_key=row["household_key"],
                household_id=links.get(row["household_key"]),
                flagged_id=flagged.get(row["household_key"]),
                rank=row["rank"],
                score=row["score"],
                indicator_count=row["indicator_count"],
                features={c: int(features[c]) for c in CODES},
                sex=features["sex"] if features["sex"] in ("F", "M") else "",
                age_band=features["age_band"],
                factors=[{"code": f.code, "value": f.value, "weight": round(f.weight, 4)} for f in factors],
            )
        )
    Candidate.objects.bulk_create(candidates, batch_size=1000)
    now = timezone.now()
    Outreach.objects.bulk_create(
        [Outreach(candidate=c, updated_at=now) for c in Candidate.objects.filter(run=run)], batch_size=1000
    )
    audit.log(actor, AuditAction.IMPORT, RUN, object_id=run.pk, site_id=site_id, record_count=len(candidates))
    _event(
        "screening.run",
        actor,
        site_id,
        subject=(RUN, run.pk),
        households=run.households,
        listed=len(candidates),
        quarantined=run.quarantined,
        scorer=run.scorer,
    )
    return run


# --- models ------------------------------------------------------------------------------------------------------


def _labels_from_outreach(site_id: int) -> tuple[pa.Table, pa.Table] | None:
    """Features and outcomes of the site's own screening visits: the labels the next model learns from."""
    import pyarrow as pa

    rows = list(
        Candidate.objects.filter(site_id=site_id, outreach__result__in=list(LABEL_OF))
        .order_by("household_key", "-outreach__recorded_at")
        .values("household_key", "area_id", "sex", "age_band", "indicator_count", "features",
                "outreach__result", "outreach__selection", "outreach__recorded_at")
    )  # fmt: skip
    if not rows:
        return None
    seen: set[str] = set()
    latest = [r for r in rows if not (r["household_key"] in seen or seen.add(r["household_key"]))]  # type: ignore[func-returns-value]
    features = pa.table(
        {
            "household_key": [r["household_key"] for r in latest],
            "area_code": [r["area_id"] for r in latest],
            "sex": [r["sex"] or "U" for r in latest],
            "age_band": [r["age_band"] for r in latest],
            **{c: pa.array([int(r["features"].get(c, 0)) for r in latest], pa.int64()) for c in CODES},
            "indicator_count": pa.array([r["indicator_count"] for r in latest], pa.int64()),
        }
    )
    outcomes = pa.table(
        {
            "household_key": [r["household_key"] for r in latest],
            "visited_on": [timezone.localtime(r["outreach__recorded_at"]).date().isoformat() for r in latest],
            "selection": [r["outreach__selection"] for r in latest],
            "outcome": [LABEL_OF[r["outreach__result"]] for r in latest],
        }
    )
    return features, outcomes


def train_model(
    actor: Actor,
    *,
    as_of: date,
    history: Path | None = None,
    capacity_share: float = 0.005,
) -> ModelVersion:
    """Train a model on recorded outcomes — the site's screening visits, and a history of past visits
    (``history``: the screening files of that time plus ``outcomes.csv``) — evaluate it beside the rule on the
    held-out random visits and store it with its card, waiting for an official's approval."""
    import pyarrow as pa

    from maeul.screening import batch, pipeline
    from maeul.screening import model as risk

    site_id = _site_scope(actor.principal, Resource.SCREENING_MODEL, Action.CREATE)
    feature_parts: list[pa.Table] = []
    outcome_parts: list[pa.Table] = []
    if history is not None:
        if not (history / "outcomes.csv").exists():
            raise ScreeningError("history", "no_outcomes", _("The history has no outcomes.csv."))
        areas = list(Area.objects.filter(member_of_sites__id=site_id).values_list("code", flat=True))
        con = pipeline.engine("duckdb")
        data = pipeline.intake(con, history, as_of=as_of, area_codes=areas)
        feature_parts.append(pipeline.to_arrow(con, pipeline.features(con, data, as_of=as_of)))
        past = batch.read_outcomes(history / "outcomes.csv")
        outcome_parts.append(past.select(["household_key", "visited_on", "selection", "outcome"]))
    own = _labels_from_outreach(site_id)
    if own is not None:
        feature_parts.append(own[0])
        outcome_parts.append(own[1])
    if not feature_parts:
        raise ScreeningError(
            "history", "no_outcomes", _("No recorded outcomes to learn from yet: the rule stays in use.")
        )
    features = pa.concat_tables(
        [t.select(feature_parts[0].column_names).cast(feature_parts[0].schema) for t in feature_parts]
    )
    outcomes = pa.concat_tables([t.cast(pa.schema([(n, pa.string()) for n in t.column_names])) for t in outcome_parts])
    try:
        training = batch.train_and_evaluate(features, outcomes, capacity_share=capacity_share)
    except ValueError as exc:
        raise ScreeningError("history", "no_holdout", str(exc)) from exc
    if training.trained is None:
        raise ScreeningError(
            "history",
            "too_few_labels",
            _("%(rows)s usable outcomes (%(need)s in need) are too few to train a model: the rule stays in use.")
            % {"rows": training.train_rows, "need": training.train_in_need},
        )
    blob = training.trained.dumps()
    dates = sorted(v for v in outcomes.column("visited_on").to_pylist() if v)
    with transaction.atomic():
        last = ModelVersion.objects.select_for_update().filter(site_id=site_id).aggregate(v=Max("version"))["v"]
        version = ModelVersion.objects.create(
            site_id=site_id,
            version=(last or 0) + 1,
            algorithm=risk.ALGORITHM,
            trained_at=timezone.now(),
            trained_by_id=actor.principal.user_id,
            data_from=date.fromisoformat(dates[0][:10]) if dates else None,
            data_until=date.fromisoformat(dates[-1][:10]) if dates else None,
            train_rows=training.train_rows,
            train_in_need=training.train_in_need,
            evaluation=training.report,
            blob=blob,
            sha256=hashlib.sha256(blob).hexdigest(),
        )
        audit.log(actor, AuditAction.CREATE, MODEL, object_id=version.pk, site_id=site_id)
        _event("screening.model_trained", actor, site_id, subject=(MODEL, version.pk), version=version.version,
               beats_rule=bool(training.report.get("model_beats_rule")))  # fmt: skip
    return version


@transaction.atomic
def decide_model(actor: Actor, version_id: int, *, approve: bool, note: str = "") -> ModelVersion:
    """An official approves a model (it replaces the one in use from the next run) or rejects it. Whoever trained
    it may not approve it: a second person looks at the card first."""
    site_id = actor.principal.site_id
    if actor.principal.scope(Resource.SCREENING_MODEL, Action.CHANGE) != Scope.SITE or site_id is None:
        raise NotFound("model", version_id)
    version = ModelVersion.objects.select_for_update().filter(site_id=site_id, pk=version_id).first()
    if version is None:
        raise NotFound("model", version_id)
    if version.status != ModelStatus.DRAFT:
        raise ScreeningError("status", "decided", _("This model was already decided on."))
    if approve and version.trained_by_id == actor.principal.user_id:
        raise ScreeningError("status", "four_eyes", _("The person who trained a model cannot approve it."))
    if approve and not note.strip():
        raise ScreeningError("note", "required", _("Say why the model may be used (what you checked on its card)."))
    now = timezone.now()
    if approve:
        ModelVersion.objects.filter(site_id=site_id, status=ModelStatus.APPROVED).update(status=ModelStatus.RETIRED)
    version.status = ModelStatus.APPROVED if approve else ModelStatus.REJECTED
    version.decided_by_id = actor.principal.user_id
    version.decided_at = now
    version.decision_note = note.strip()[:500]
    version.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit.log(actor, AuditAction.CHANGE, MODEL, object_id=version.pk, site_id=site_id,
              changes={"status": [ModelStatus.DRAFT, version.status],
                       "note": [None, version.decision_note]})  # fmt: skip
    _event("screening.model_decided", actor, site_id, subject=(MODEL, version.pk), approved=approve)
    return version


def model_versions(principal: Principal) -> list[ModelVersion]:
    if principal.scope(Resource.SCREENING_MODEL, Action.VIEW) != Scope.SITE or principal.site_id is None:
        return []
    return list(
        ModelVersion.objects.filter(site_id=principal.site_id).defer("blob").select_related("trained_by", "decided_by")
    )


def read_model(principal: Principal, version_id: int) -> ModelVersion:
    for version in model_versions(principal):
        if version.pk == version_id:
            return version
    raise NotFound("model", version_id)


def pending_models(principal: Principal) -> int:
    if not principal.can(Resource.SCREENING_MODEL, Action.CHANGE) or principal.site_id is None:
        return 0
    return ModelVersion.objects.filter(site_id=principal.site_id, status=ModelStatus.DRAFT).count()


# --- the outreach list ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CandidateRow:
    id: int
    area_code: str
    area_name: str
    rank: int
    score: float
    scorer: str
    indicator_count: int
    explanation: str
    household_id: int | None
    household_reference: str
    national_case_no: str
    name: str
    address: str
    status: str
    result: str
    assigned_to: str
    method: str


def latest_run(principal: Principal) -> ScreeningRun | None:
    if principal.site_id is None:
        return None
    return (
        ScreeningRun.objects.filter(site_id=principal.site_id, status=RunStatus.APPLIED).select_related("model").first()
    )


def runs(principal: Principal, limit: int = 50) -> list[ScreeningRun]:
    if not principal.can(Resource.SCREENING, Action.VIEW) or principal.site_id is None:
        return []
    return list(ScreeningRun.objects.filter(site_id=principal.site_id).select_related("model")[:limit])


def read_run(principal: Principal, run_id: int) -> tuple[ScreeningRun, list[QuarantinedRow]]:
    run = ScreeningRun.objects.filter(site_id=principal.site_pk, pk=run_id).select_related("model").first()
    if run is None or not principal.can(Resource.SCREENING, Action.VIEW):
        raise NotFound("run", run_id)
    return run, list(run.quarantine.all()[:500])


def _row(c: Candidate) -> CandidateRow:
    outreach = c.outreach
    name = address = ""
    reference = ""
    if c.household_id is not None and c.household is not None:
        reference = c.household.reference
        address = fields.decrypt(c.household.address_encrypted)
    if c.flagged is not None:
        name = fields.decrypt(c.flagged.name_encrypted)
        address = address or fields.decrypt(c.flagged.address_encrypted)
    return CandidateRow(
        id=c.pk,
        area_code=c.area_id,
        area_name=c.area.name,
        rank=c.rank,
        score=c.score,
        scorer=c.run.scorer,
        indicator_count=c.indicator_count,
        explanation=explanation(c),
        household_id=c.household_id,
        household_reference=reference,
        national_case_no=c.flagged.national_case_no if c.flagged is not None else "",
        name=name,
        address=address,
        status=outreach.status,
        result=outreach.result,
        assigned_to=outreach.assigned_to.get_username() if outreach.assigned_to is not None else "",
        method=outreach.method,
    )


def outreach_list(
    actor: Actor, *, area_code: str = "", status: str = "", run_id: int | None = None
) -> list[CandidateRow]:
    """The latest run's list (or a given run's) in the actor's scope, by area and rank; every household shown is
    written to the access record."""
    run = (
        ScreeningRun.objects.filter(site_id=actor.principal.site_pk, pk=run_id).first()
        if run_id
        else latest_run(actor.principal)
    )
    if run is None:
        return []
    qs = (
        visible_candidates(actor.principal)
        .filter(run=run)
        .select_related("run__model", "outreach__assigned_to", "household", "flagged", "area")
    )
    if area_code:
        qs = qs.filter(area_id=area_code)
    if status:
        qs = qs.filter(outreach__status=status)
    rows = [_row(c) for c in qs.order_by("area_id", "rank")]
    audit.log_each(actor, AuditAction.VIEW, CANDIDATE, [r.id for r in rows], site_id=actor.principal.site_id)
    linked = [r.household_id for r in rows if r.household_id is not None]
    if linked:
        audit.log_many(actor, AuditAction.VIEW, CANDIDATE, linked, site_id=actor.principal.site_id)
    return rows


@dataclass(frozen=True)
class CandidateDetail:
    row: CandidateRow
    candidate: Candidate
    factors: list[tuple[str, str, float]]  # label, plain words, weight
    present: list[tuple[str, int]]  # every indicator present: label, value
    reviews: list[ReviewRequest]
    note: str
    phone: str


def read_candidate(actor: Actor, candidate_id: int) -> CandidateDetail:
    c = _candidate(actor.principal, candidate_id, Action.VIEW)
    c = Candidate.objects.select_related("run__model", "outreach__assigned_to", "household", "flagged", "area").get(
        pk=c.pk
    )
    audit.log(actor, AuditAction.VIEW, CANDIDATE, object_id=c.pk, household_id=c.household_id,
              site_id=c.site_id, area_code=c.area_id)  # fmt: skip
    factors = [(str(BY_CODE[f.code].label), phrase(f), f.weight) for f in factors_of(c)]
    present = [
        (str(BY_CODE[code].label), value)
        for code, value in c.features.items()
        if code in BY_CODE and value >= BY_CODE[code].present_at
    ]
    return CandidateDetail(
        row=_row(c),
        candidate=c,
        factors=factors,
        present=present,
        reviews=list(c.reviews.all()),
        note=fields.decrypt(c.outreach.result_note_encrypted),
        phone=fields.decrypt(c.flagged.phone_encrypted) if c.flagged is not None else "",
    )


def assignable_people(principal: Principal) -> list[tuple[int, str, str]]:
    """(user id, username, role) of the site's officials and helpers who can take an outreach."""
    if principal.site_id is None:
        return []
    return [
        (m.user_id, m.user.get_username(), m.role)
        for m in Membership.objects.filter(site_id=principal.site_id, role__in=ASSIGNABLE_ROLES, user__is_active=True)
        .select_related("user")
        .order_by("role", "user__username")
    ]


@transaction.atomic
def assign(actor: Actor, candidate_id: int, user_id: int | None, method: str = Method.VISIT) -> Outreach:
    c = _candidate(actor.principal, candidate_id, Action.CHANGE)
    if method not in Method.values:
        raise ScreeningError("method", "invalid", _("Choose a visit or a call."))
    if user_id is not None and user_id not in {u for u, _n, _r in assignable_people(actor.principal)}:
        raise ScreeningError("assigned_to", "not_assignable", _("Choose an official or a helper of this site."))
    outreach = Outreach.objects.select_for_update().get(candidate=c)
    before = {"assigned_to": outreach.assigned_to_id, "method": outreach.method}
    outreach.assigned_to_id = user_id
    outreach.method = method
    outreach.updated_at = timezone.now()
    outreach.save(update_fields=["assigned_to", "method", "updated_at"])
    audit.log(actor, AuditAction.CHANGE, CANDIDATE, object_id=c.pk, household_id=c.household_id, site_id=c.site_id,
              area_code=c.area_id, changes=audit.diff(before, {"assigned_to": user_id, "method": method}))  # fmt: skip
    _event("screening.assigned", actor, c.site_id, area_code=c.area_id, subject=(CANDIDATE, c.pk), method=method)
    return outreach


@dataclass(frozen=True)
class ResultOutcome:
    outreach: Outreach
    case_id: int | None
    verification_task_id: int | None
    needs_household: bool  # the result asked for a case or a check, but the key is not linked to a household yet


@transaction.atomic
def record_result(actor: Actor, candidate_id: int, result: str, note: str = "") -> ResultOutcome:
    """What the visit or call found. *In need* opens (or adds to) the household's welfare case; *no contact* and
    *not at this address* open a contact or address check and keep the outreach open until it is resolved. Until
    the key is linked to a household of the register, those stay open here, marked as waiting for the link."""
    c = _candidate(actor.principal, candidate_id, Action.CHANGE)
    if result not in Result.values:
        raise ScreeningError("result", "invalid", _("Choose what the visit or call found."))
    outreach = Outreach.objects.select_for_update().get(candidate=c)
    now = timezone.now()
    case_id = task_id = None
    needs_household = False
    status = OutreachStatus.DONE
    if result in (Result.NO_CONTACT, Result.WRONG_ADDRESS):
        status = OutreachStatus.VERIFYING
        if c.household_id is not None:
            task = welfare.open_verification_task(
                actor,
                c.household_id,
                kind=welfare.VerificationKind.CONTACT
                if result == Result.NO_CONTACT
                else welfare.VerificationKind.ADDRESS,
                source="screening",
                source_ref=f"candidate:{c.pk}",
                note=note,
            )
            task_id = task.id
        else:
            needs_household = True
    elif result == Result.IN_NEED:
        if c.household_id is not None:
            domains = sorted({_DOMAIN[f.code] for f in factors_of(c) if f.code in _DOMAIN})
            case = welfare.open_case(
                actor, c.household_id, source=welfare.CaseSource.SCREENING, source_ref=f"candidate:{c.pk}",
                summary=_("Screening %(period)s: %(reasons)s") % {"period": c.run.period, "reasons": explanation(c)},
                needs=domains,
            )  # fmt: skip
            case_id = case.id
        else:
            needs_household = True
            status = OutreachStatus.OPEN
    before = {"result": outreach.result, "status": outreach.status}
    outreach.result = result
    outreach.status = status
    outreach.result_note_encrypted = fields.encrypt(note.strip())
    outreach.recorded_at = now
    outreach.recorded_by_id = actor.principal.user_id
    outreach.case_id = case_id or outreach.case_id
    outreach.verification_task_id = task_id or outreach.verification_task_id
    outreach.updated_at = now
    outreach.save()
    audit.log(actor, AuditAction.CHANGE, CANDIDATE, object_id=c.pk, household_id=c.household_id, site_id=c.site_id,
              area_code=c.area_id, changes={**audit.diff(before, {"result": result, "status": status}),
                                            "note": [None, note.strip()]})  # fmt: skip
    _event("screening.result", actor, c.site_id, area_code=c.area_id, household_id=c.household_id,
           subject=(CANDIDATE, c.pk), result=result, case=bool(case_id), verification=bool(task_id))  # fmt: skip
    return ResultOutcome(outreach, case_id, task_id, needs_household)


# Need domains of the resource directory suggested by an explaining indicator (the official assesses the rest).
_DOMAIN = {
    "electricity_arrears_months": "income", "water_arrears_months": "income", "gas_arrears_months": "income",
    "electricity_cutoff": "housing", "water_cutoff": "housing", "gas_cutoff": "housing",
    "health_insurance_arrears_months": "health", "catastrophic_medical_costs": "health",
    "rent_arrears_months": "housing", "housing_fee_arrears_months": "housing", "insecure_housing": "housing",
    "employment_insurance_lost": "income", "unemployment_benefit_ended": "income", "debt_adjustment": "income",
    "living_alone": "isolation", "unanswered_check_ins": "isolation", "activity_decline_pct": "care",
    "long_term_care_unused": "care", "care_service_ended": "care", "mental_health_crisis": "health",
}  # fmt: skip


@transaction.atomic
def link_household(actor: Actor, candidate_id: int, reference: str) -> Candidate:
    """Link a candidate's pseudonymous key to a household of the register (by its H-number), e.g. after it was
    registered with the resident's consent during the visit. Later runs then bring in Maeul's own signals."""
    c = _candidate(actor.principal, candidate_id, Action.CHANGE)
    household = (
        people.visible_households(actor.principal, Action.CHANGE).filter(reference__iexact=reference.strip()).first()
    )
    if household is None:
        raise ScreeningError("reference", "unknown", _("No household with this number in your areas."))
    if (
        SubjectLink.objects.filter(site_id=c.site_id, household=household)
        .exclude(household_key=c.household_key)
        .exists()
    ):
        raise ScreeningError("reference", "linked", _("That household is already linked to another key."))
    SubjectLink.objects.update_or_create(
        site_id=c.site_id, household_key=c.household_key,
        defaults={"household": household, "linked_at": timezone.now(), "linked_by_id": actor.principal.user_id},
    )  # fmt: skip
    Candidate.objects.filter(site_id=c.site_id, household_key=c.household_key).update(household=household)
    audit.log(actor, AuditAction.CHANGE, CANDIDATE, object_id=c.pk, household_id=household.pk, site_id=c.site_id,
              area_code=c.area_id, changes={"household": [None, household.reference]})  # fmt: skip
    c.household = household
    return c


# --- PIPA Art. 37-2 ----------------------------------------------------------------------------------------------


@transaction.atomic
def request_review(
    actor: Actor, candidate_id: int, *, kind: str, channel: str, request: str = "", received_on: date | None = None
) -> ReviewRequest:
    """Record a resident's request for an explanation or a human review. The explanation given now is kept as it
    was given; the answer is due ``RESPONSE_DAYS`` days after the request was received."""
    c = _candidate(actor.principal, candidate_id, Action.CHANGE)
    if kind not in ReviewKind.values:
        raise ScreeningError("kind", "invalid", _("Choose explanation or review by a person."))
    received = received_on or timezone.localdate()
    if received > timezone.localdate():
        raise ScreeningError("received_on", "future", _("The request cannot be received in the future."))
    given = explanation_for_resident(c)
    review = ReviewRequest.objects.create(
        site_id=c.site_id,
        candidate=c,
        kind=kind,
        received_on=received,
        due_on=received + timedelta(days=RESPONSE_DAYS),
        channel=channel.strip()[:20],
        request_encrypted=fields.encrypt(request.strip()),
        explanation_given_encrypted=fields.encrypt(given),
        recorded_by_id=actor.principal.user_id,
    )
    audit.log(actor, AuditAction.CREATE, REVIEW, object_id=review.pk, household_id=c.household_id, site_id=c.site_id,
              area_code=c.area_id, changes={"kind": [None, kind], "explanation_given": [None, given]})  # fmt: skip
    _event("screening.review_requested", actor, c.site_id, area_code=c.area_id, subject=(REVIEW, review.pk), kind=kind)
    return review


@transaction.atomic
def answer_review(actor: Actor, review_id: int, answer: str) -> ReviewRequest:
    review = ReviewRequest.objects.select_for_update().filter(pk=review_id).first()
    if review is None:
        raise NotFound("review", review_id)
    c = _candidate(actor.principal, review.candidate_id, Action.CHANGE)
    if review.status == ReviewStatus.ANSWERED:
        raise ScreeningError("status", "answered", _("This request was already answered."))
    if not answer.strip():
        raise ScreeningError("answer", "required", _("Write the answer given to the resident."))
    review.status = ReviewStatus.ANSWERED
    review.answer_encrypted = fields.encrypt(answer.strip())
    review.answered_on = timezone.localdate()
    review.answered_by_id = actor.principal.user_id
    review.save()
    audit.log(actor, AuditAction.CHANGE, REVIEW, object_id=review.pk, household_id=c.household_id, site_id=c.site_id,
              area_code=c.area_id, changes={"answer": [None, answer.strip()]})  # fmt: skip
    _event("screening.review_answered", actor, c.site_id, area_code=c.area_id, subject=(REVIEW, review.pk),
           on_time=review.answered_on <= review.due_on)  # fmt: skip
    return review


def reviews(principal: Principal, status: str = ReviewStatus.OPEN) -> list[ReviewRequest]:
    candidates = visible_candidates(principal, Action.VIEW)
    qs = ReviewRequest.objects.filter(candidate__in=candidates).select_related("candidate", "candidate__area")
    return list(qs.filter(status=status) if status else qs)


def review_texts(review: ReviewRequest) -> dict[str, str]:
    return {
        "request": fields.decrypt(review.request_encrypted),
        "explanation": fields.decrypt(review.explanation_given_encrypted),
        "answer": fields.decrypt(review.answer_encrypted),
    }


# --- the national list -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NationalImport:
    created: int
    already_imported: int
    linked: int


def import_national_list(actor: Actor, content: bytes, filename: str = "national_list.csv") -> NationalImport:
    """Import the national blind-spot system's bimonthly list. Every row is checked first; any problem and nothing
    is imported (each problem named by file, row, column and reason). A case number already imported is skipped,
    so the same list can be loaded twice without entering anyone twice."""
    site_id = _site_scope(actor.principal, Resource.SCREENING, Action.IMPORT)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp949")
        except UnicodeDecodeError as exc:
            raise NationalListRejected([Problem(filename, 0, "", "not UTF-8 or CP949 text")]) from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in NATIONAL_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise NationalListRejected([Problem(filename, 0, ",".join(missing), "missing columns")])
    areas = set(Area.objects.filter(member_of_sites__id=site_id).values_list("code", flat=True))
    problems: list[Problem] = []
    parsed: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):

        def bad(column: str, reason: str, line: int = line) -> None:
            problems.append(Problem(filename, line, column, reason))

        case_no = (row["national_case_no"] or "").strip()
        if not case_no or len(case_no) > 32:
            bad("national_case_no", "missing or longer than 32 characters")
        elif case_no in seen:
            bad("national_case_no", "repeated in the file")
        seen.add(case_no)
        if not re.fullmatch(r"[0-9]{4}-(0[1-6])", (row["round"] or "").strip()):
            bad("round", "YYYY-NN, the two-month round 01–06")
        key = (row["household_key"] or "").strip()
        if key and not re.fullmatch(KEY_PATTERN, key):
            bad("household_key", "not a pseudonymous key")
        if re.fullmatch(RRN_PATTERN, key) or re.fullmatch(RRN_PATTERN, (row["person_key"] or "").strip()):
            bad("household_key", RRN_REASON)
        if (row["area_code"] or "").strip() not in areas:
            bad("area_code", "not an eup/myeon/dong of the site")
        if not (row["name"] or "").strip():
            bad("name", "missing")
        if not (row["address"] or "").strip():
            bad("address", "missing")
        try:
            birth = date.fromisoformat((row["birth_date"] or "").strip())
        except ValueError:
            bad("birth_date", "not a date (YYYY-MM-DD)")
            birth = None
        if (row["sex"] or "").strip() not in ("", "F", "M"):
            bad("sex", "F or M")
        codes = [c for c in (row["indicators"] or "").split("|") if c]
        unknown = [c for c in codes if c not in BY_CODE]
        if unknown:
            bad("indicators", f"unknown indicators: {', '.join(unknown)}")
        phone = (row["phone"] or "").strip()
        parsed.append({"case_no": case_no, "round": (row["round"] or "").strip(), "key": key,
                       "area": (row["area_code"] or "").strip(), "name": (row["name"] or "").strip(),
                       "address": (row["address"] or "").strip(), "birth": birth, "sex": (row["sex"] or "").strip(),
                       "phone": phone, "codes": codes})  # fmt: skip
    if problems:
        raise NationalListRejected(problems)
    existing = set(
        FlaggedPerson.objects.filter(site_id=site_id, national_case_no__in=[p["case_no"] for p in parsed]).values_list(
            "national_case_no", flat=True
        )
    )
    now = timezone.now()
    new = [
        FlaggedPerson(
            site_id=site_id,
            national_case_no=p["case_no"],
            round=p["round"],
            household_key=p["key"],
            area_id=p["area"],
            name_encrypted=fields.encrypt(p["name"]),
            birth_year=p["birth"].year if p["birth"] else None,
            sex=p["sex"],
            address_encrypted=fields.encrypt(p["address"]),
            address_index=fields.blind_index(fields.normalise_text(p["address"])),
            phone_encrypted=fields.encrypt(p["phone"]),
            indicators=p["codes"],
            imported_at=now,
            imported_by_id=actor.principal.user_id,
        )
        for p in parsed
        if p["case_no"] not in existing
    ]
    with transaction.atomic():
        FlaggedPerson.objects.bulk_create(new, batch_size=1000)
        linked = 0
        keys = [f.household_key for f in new if f.household_key]
        for flagged in FlaggedPerson.objects.filter(site_id=site_id, household_key__in=keys):
            linked += Candidate.objects.filter(
                site_id=site_id, household_key=flagged.household_key, flagged=None
            ).update(flagged=flagged)
        audit.log(actor, AuditAction.IMPORT, FLAGGED, site_id=site_id, record_count=len(new))
        _event("screening.national_imported", actor, site_id, created=len(new), skipped=len(parsed) - len(new))
    return NationalImport(created=len(new), already_imported=len(parsed) - len(new), linked=linked)


def export_national_results(actor: Actor, round_code: str, reason: str) -> tuple[str, int]:
    """The results to report back to the national system for one round: case number, result category, whether
    support was linked and the date — nothing else about the person."""
    site_id = _site_scope(actor.principal, Resource.SCREENING, Action.EXPORT)
    if not reason.strip():
        raise ScreeningError("reason", "required", _("Say why you need this download."))
    flagged = list(FlaggedPerson.objects.filter(site_id=site_id, round=round_code))
    outreach = {
        o.candidate.flagged_id: o
        for o in Outreach.objects.filter(candidate__flagged__in=flagged).exclude(result="").select_related("candidate")
    }
    supported = welfare.cases_with_support([o.case_id for o in outreach.values() if o.case_id])
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(["national_case_no", "round", "result", "support_linked", "checked_on"])
    for f in flagged:
        o = outreach.get(f.pk)
        writer.writerow([
            f.national_case_no,
            f.round,
            NATIONAL_RESULT.get(Result(o.result), "") if o else "not_checked",
            "Y" if o and o.case_id in supported else "N",
            timezone.localtime(o.recorded_at).date().isoformat() if o and o.recorded_at else "",
        ])  # fmt: skip
    audit.log(actor, AuditAction.EXPORT, FLAGGED, site_id=site_id, record_count=len(flagged), reason=reason)
    return buffer.getvalue(), len(flagged)


def flagged_rounds(principal: Principal) -> list[tuple[str, int]]:
    if principal.site_id is None or not principal.can(Resource.SCREENING, Action.VIEW):
        return []
    rows = FlaggedPerson.objects.filter(site_id=principal.site_id).values("round").annotate(n=Count("id"))
    return [(r["round"], r["n"]) for r in rows.order_by("-round")]


# --- the ministry's programme (aggregates only) ----------------------------------------------------------------


def programme_figures(site_id: int, since: date, until: date) -> dict[str, float | int | None]:
    """Counts for the programme's comparison of sites (issue 8), over results recorded on ``since`` ≤ day <
    ``until`` (as every ``programme_figures``): no person-level data. *Blind-spot households found* are listed
    households a person confirmed in need; *linked to support* are those whose case had a referral delivered or
    closed with a service recorded."""
    start = timezone.make_aware(datetime.combine(since, time()))
    end = timezone.make_aware(datetime.combine(until, time()))
    last = until - timedelta(days=1)
    listed = Candidate.objects.filter(site_id=site_id, run__status=RunStatus.APPLIED, run__as_of__range=(since, last))
    recorded = Outreach.objects.filter(candidate__site_id=site_id, recorded_at__gte=start, recorded_at__lt=end)
    found = list(recorded.filter(result=Result.IN_NEED).values_list("candidate__household_key", "case_id"))
    found_keys = {k for k, _c in found}
    case_ids = [c for _k, c in found if c]
    supported_cases = welfare.cases_with_support(case_ids)
    supported_keys = {k for k, c in found if c in supported_cases}
    reviews_in = ReviewRequest.objects.filter(site_id=site_id, received_on__range=(since, last))
    answered = reviews_in.filter(status=ReviewStatus.ANSWERED)
    on_time = sum(1 for r in answered.values_list("answered_on", "due_on") if r[0] and r[0] <= r[1])
    return {
        "screening_runs": ScreeningRun.objects.filter(
            site_id=site_id, status=RunStatus.APPLIED, as_of__range=(since, last)
        ).count(),
        "households_listed": listed.values("household_key").distinct().count(),
        "national_list_received": FlaggedPerson.objects.filter(
            site_id=site_id, imported_at__gte=start, imported_at__lt=end
        ).count(),
        "households_contacted": recorded.exclude(result__in=[Result.NO_CONTACT, Result.WRONG_ADDRESS])
        .values("candidate__household_key")
        .distinct()
        .count(),
        "blind_spot_households_found": len(found_keys),
        "blind_spot_households_supported": len(supported_keys),
        "share_linked_to_support": (len(supported_keys) / len(found_keys)) if found_keys else None,
        "no_contact_or_wrong_address": recorded.filter(result__in=[Result.NO_CONTACT, Result.WRONG_ADDRESS]).count(),
        "review_requests": reviews_in.count(),
        "review_requests_answered_on_time": on_time,
        "model_in_use": 1 if model_in_use(site_id) else 0,
    }


def areas_in_scope(principal: Principal) -> list[Area]:
    qs = Area.objects.filter(member_of_sites__id=principal.site_pk, abolished=False)
    if principal.scope(Resource.SCREENING, Action.VIEW) == Scope.AREA:
        qs = qs.filter(code__in=principal.area_codes)
    return list(qs.order_by("code"))


__all__ = ["programme_figures", "run_screening", "train_model"]
