"""The permission matrix: role × resource × action → scope, declared once, as data.

Views and API operations name the (resource, action) they need with ``requires``/``api_requires``; the
service layer turns the user's scope into a query filter. A route that declares nothing fails the suite
(``accounts/tests/test_routes.py``).
"""

from __future__ import annotations

from enum import StrEnum

from maeul.accounts.roles import Role


class Scope(StrEnum):
    ALL = "all"  # every site (the ministry: aggregates and site configuration only)
    SITE = "site"  # the user's site
    AREA = "area"  # the eup/myeon/dong the user is assigned to
    GRANTED = "granted"  # households explicitly granted: a helper's assignment, a referral, a guardian link
    OWN = "own"  # the user's own account
    LOCAL_GOVERNMENT = "local_government"  # the user's own si/gun/gu: its programme applications and grant


class Resource(StrEnum):
    HOUSEHOLD = "household"  # households, persons, contacts, consents: person-level data
    AUDIT = "audit"
    AREA = "area"
    SITE = "site"
    SITE_SETTINGS = "site_settings"
    EVENTS = "events"  # domain events, aggregated
    ACCOUNT = "account"  # one's own account
    MEMBERS = "members"  # the accounts of a site
    API_TOKEN = "api_token"  # noqa: S105 — a resource name, not a secret
    HAZARD = "hazard"  # hazard reports; the reporter's contact details only with CHANGE
    SAFETY_BODY = "safety_body"  # the consultative body: members (contacts), meetings, activities
    SAFETY_TASK = "safety_task"  # improvement tasks and the yearly plan
    SAFETY_CATALOGUE = "safety_catalogue"  # hazard categories and responders
    DEVICE = "device"  # devices in homes, gateways, dead letters, unclaimed devices; readings are HOUSEHOLD data
    ALERT = "alert"  # alerts on households and their handling (person-level)
    ON_CALL = "on_call"  # the officials' on-call roster, holidays and the site's 24-hour contact
    HELPER = "helper"  # the safety-net helpers: registry, contacts, training and background checks
    CHECK_IN = "check_in"  # assignments of helpers to households, check-in schedules and check-ins
    CASE = "case"  # welfare cases, needs assessments, plans, follow-ups and verification tasks (person-level)
    REFERRAL = "referral"  # referrals of a case to a partner organisation's service
    DIRECTORY = "directory"  # the resource directory (organisations and services; no personal data)
    WELFARE_REPORT = "welfare_report"  # coverage, check-in, case and referral figures (aggregates)
    # The ministry's programme (``maeul.programme``): no personal data of residents in any of these.
    PROGRAMME_CALL = "programme_call"  # calls for proposals, their caps, deadlines and rubric
    APPLICATION = "application"  # local governments' applications: plan, budget lines, KPI targets, attachments
    EVALUATION = "evaluation"  # panels, conflict declarations, scores, ranking, selection and result notices
    GRANT = "grant"  # awarded grants: budget lines, spending, quarterly reports
    PROGRAMME_RESULTS = "programme_results"  # sites' KPI figures (suppressed aggregates), baselines, reports
    DISASTER = "disaster"  # disaster responses: activation, board, checklists, situation report, review
    DISASTER_SETUP = "disaster_setup"  # response plans, the forecast-zone table, CAP alert sources
    ROLL_CALL = "roll_call"  # households to reach in a response and each contact (person-level)
    SCREENING = "screening"  # blind-spot screening: runs, ranked households, outreach, the national list, reviews
    SCREENING_MODEL = "screening_model"  # risk model versions: cards, training, approval


class Action(StrEnum):
    VIEW = "view"
    CREATE = "create"
    CHANGE = "change"
    EXPORT = "export"
    IMPORT = "import"
    CONFIRM = "confirm"  # a consultative body member confirms a task is really done; ticks a response checklist


_OFFICIAL = {
    Resource.HOUSEHOLD: {
        Action.VIEW: Scope.AREA,
        Action.CREATE: Scope.AREA,
        Action.CHANGE: Scope.AREA,
        Action.EXPORT: Scope.AREA,
        Action.IMPORT: Scope.AREA,
    },
    Resource.AREA: {Action.VIEW: Scope.SITE},
    Resource.SITE: {Action.VIEW: Scope.SITE},
    Resource.EVENTS: {Action.VIEW: Scope.AREA},
    Resource.ACCOUNT: {Action.VIEW: Scope.OWN, Action.CHANGE: Scope.OWN},
    Resource.HAZARD: {Action.VIEW: Scope.AREA, Action.CREATE: Scope.AREA},
    Resource.SAFETY_BODY: {Action.VIEW: Scope.AREA},
    Resource.SAFETY_TASK: {Action.VIEW: Scope.AREA},
    Resource.DEVICE: {Action.VIEW: Scope.AREA, Action.CREATE: Scope.AREA, Action.CHANGE: Scope.AREA},
    Resource.ALERT: {Action.VIEW: Scope.AREA, Action.CHANGE: Scope.AREA},
    Resource.ON_CALL: {Action.VIEW: Scope.SITE},
    Resource.HELPER: {Action.VIEW: Scope.AREA, Action.CREATE: Scope.AREA, Action.CHANGE: Scope.AREA},
    Resource.CHECK_IN: {Action.VIEW: Scope.AREA, Action.CREATE: Scope.AREA, Action.CHANGE: Scope.AREA},
    Resource.CASE: {Action.VIEW: Scope.AREA, Action.CREATE: Scope.AREA, Action.CHANGE: Scope.AREA},
    Resource.REFERRAL: {Action.VIEW: Scope.AREA, Action.CREATE: Scope.AREA, Action.CHANGE: Scope.AREA},
    Resource.DIRECTORY: {Action.VIEW: Scope.SITE, Action.EXPORT: Scope.SITE},
    Resource.WELFARE_REPORT: {Action.VIEW: Scope.AREA, Action.EXPORT: Scope.AREA},
    # Both kinds of area official run the first response in their areas: activate, follow the roll-call, report.
    Resource.DISASTER: {
        Action.VIEW: Scope.AREA,
        Action.CREATE: Scope.AREA,
        Action.CHANGE: Scope.AREA,
        Action.EXPORT: Scope.AREA,
        Action.CONFIRM: Scope.AREA,
    },
    Resource.DISASTER_SETUP: {Action.VIEW: Scope.SITE},
    Resource.ROLL_CALL: {Action.VIEW: Scope.AREA, Action.CHANGE: Scope.AREA, Action.EXPORT: Scope.AREA},
    Resource.SCREENING: {Action.VIEW: Scope.AREA, Action.CHANGE: Scope.AREA},
    Resource.SCREENING_MODEL: {Action.VIEW: Scope.SITE},
}

# The safety official runs Type 1 in their areas: triage, routing, the body and its tasks.
_SAFETY_OFFICIAL = {
    **_OFFICIAL,
    Resource.HAZARD: {Action.VIEW: Scope.AREA, Action.CREATE: Scope.AREA, Action.CHANGE: Scope.AREA},
    Resource.SAFETY_BODY: {Action.VIEW: Scope.AREA, Action.CREATE: Scope.AREA, Action.CHANGE: Scope.AREA},
    Resource.SAFETY_TASK: {
        Action.VIEW: Scope.AREA,
        Action.CREATE: Scope.AREA,
        Action.CHANGE: Scope.AREA,
        Action.CONFIRM: Scope.AREA,
        Action.EXPORT: Scope.AREA,
    },
    Resource.SAFETY_CATALOGUE: {Action.VIEW: Scope.SITE},
    Resource.DISASTER_SETUP: {Action.VIEW: Scope.SITE, Action.CHANGE: Scope.SITE},
}

_ALL_SITE = {action: Scope.SITE for action in (Action.VIEW, Action.CREATE, Action.CHANGE, Action.EXPORT)}

# A local government applies to calls and, once selected, reports its grant's spending.
_APPLICANT = {
    Resource.PROGRAMME_CALL: {Action.VIEW: Scope.ALL},
    Resource.APPLICATION: {
        Action.VIEW: Scope.LOCAL_GOVERNMENT,
        Action.CREATE: Scope.LOCAL_GOVERNMENT,
        Action.CHANGE: Scope.LOCAL_GOVERNMENT,
    },
    Resource.GRANT: {Action.VIEW: Scope.LOCAL_GOVERNMENT, Action.CHANGE: Scope.LOCAL_GOVERNMENT},
}

MATRIX: dict[Role, dict[Resource, dict[Action, Scope]]] = {
    # The ministry sees sites through aggregates only: no resource holding residents' records is listed here.
    Role.MINISTRY: {
        Resource.SITE: {Action.VIEW: Scope.ALL, Action.CREATE: Scope.ALL},
        Resource.AREA: {Action.VIEW: Scope.ALL, Action.IMPORT: Scope.ALL},
        Resource.EVENTS: {Action.VIEW: Scope.ALL},
        Resource.ACCOUNT: {Action.VIEW: Scope.OWN, Action.CHANGE: Scope.OWN},
        Resource.API_TOKEN: {Action.VIEW: Scope.OWN, Action.CREATE: Scope.OWN, Action.CHANGE: Scope.OWN},
        Resource.PROGRAMME_CALL: {Action.VIEW: Scope.ALL, Action.CREATE: Scope.ALL, Action.CHANGE: Scope.ALL},
        Resource.APPLICATION: {Action.VIEW: Scope.ALL, Action.CHANGE: Scope.ALL, Action.EXPORT: Scope.ALL},
        Resource.EVALUATION: {Action.VIEW: Scope.ALL, Action.CREATE: Scope.ALL, Action.CHANGE: Scope.ALL},
        Resource.GRANT: {Action.VIEW: Scope.ALL, Action.CHANGE: Scope.ALL, Action.EXPORT: Scope.ALL},
        Resource.PROGRAMME_RESULTS: {Action.VIEW: Scope.ALL, Action.CHANGE: Scope.ALL, Action.EXPORT: Scope.ALL},
    },
    Role.LOCAL_GOVERNMENT: {
        **_APPLICANT,
        Resource.ACCOUNT: {Action.VIEW: Scope.OWN, Action.CHANGE: Scope.OWN},
    },
    # Outside experts see the applications of their panels (GRANTED), declare conflicts and score.
    Role.EXPERT: {
        Resource.PROGRAMME_CALL: {Action.VIEW: Scope.ALL},
        Resource.APPLICATION: {Action.VIEW: Scope.GRANTED},
        Resource.EVALUATION: {Action.VIEW: Scope.GRANTED, Action.CREATE: Scope.GRANTED},
        Resource.ACCOUNT: {Action.VIEW: Scope.OWN, Action.CHANGE: Scope.OWN},
    },
    Role.SITE_ADMIN: {
        Resource.HOUSEHOLD: {
            Action.VIEW: Scope.SITE,
            Action.CREATE: Scope.SITE,
            Action.CHANGE: Scope.SITE,
            Action.EXPORT: Scope.SITE,
            Action.IMPORT: Scope.SITE,
        },
        Resource.AUDIT: {Action.VIEW: Scope.SITE, Action.EXPORT: Scope.SITE},
        Resource.AREA: {Action.VIEW: Scope.SITE, Action.IMPORT: Scope.SITE},
        Resource.SITE: {Action.VIEW: Scope.SITE},
        Resource.SITE_SETTINGS: {Action.VIEW: Scope.SITE, Action.CHANGE: Scope.SITE},
        Resource.MEMBERS: {Action.VIEW: Scope.SITE, Action.CREATE: Scope.SITE, Action.CHANGE: Scope.SITE},
        Resource.EVENTS: {Action.VIEW: Scope.SITE},
        Resource.ACCOUNT: {Action.VIEW: Scope.OWN, Action.CHANGE: Scope.OWN},
        Resource.API_TOKEN: {Action.VIEW: Scope.OWN, Action.CREATE: Scope.OWN, Action.CHANGE: Scope.OWN},
        Resource.HAZARD: dict(_ALL_SITE),
        Resource.SAFETY_BODY: dict(_ALL_SITE),
        Resource.SAFETY_TASK: {**_ALL_SITE, Action.CONFIRM: Scope.SITE},
        Resource.SAFETY_CATALOGUE: {Action.VIEW: Scope.SITE, Action.CHANGE: Scope.SITE},
        Resource.DEVICE: {**_ALL_SITE, Action.IMPORT: Scope.SITE},
        Resource.ALERT: {Action.VIEW: Scope.SITE, Action.CHANGE: Scope.SITE, Action.EXPORT: Scope.SITE},
        Resource.ON_CALL: {Action.VIEW: Scope.SITE, Action.CHANGE: Scope.SITE},
        Resource.HELPER: {**_ALL_SITE, Action.IMPORT: Scope.SITE},
        Resource.CHECK_IN: dict(_ALL_SITE),
        Resource.CASE: dict(_ALL_SITE),
        Resource.REFERRAL: dict(_ALL_SITE),
        Resource.DIRECTORY: {**_ALL_SITE, Action.IMPORT: Scope.SITE},
        Resource.WELFARE_REPORT: {Action.VIEW: Scope.SITE, Action.EXPORT: Scope.SITE},
        **_APPLICANT,
        Resource.PROGRAMME_RESULTS: {Action.VIEW: Scope.SITE, Action.EXPORT: Scope.SITE},
        Resource.DISASTER: {**_ALL_SITE, Action.CONFIRM: Scope.SITE},
        Resource.DISASTER_SETUP: {Action.VIEW: Scope.SITE, Action.CHANGE: Scope.SITE},
        Resource.ROLL_CALL: {Action.VIEW: Scope.SITE, Action.CHANGE: Scope.SITE, Action.EXPORT: Scope.SITE},
        Resource.SCREENING: {**_ALL_SITE, Action.IMPORT: Scope.SITE},
        Resource.SCREENING_MODEL: {Action.VIEW: Scope.SITE, Action.CREATE: Scope.SITE, Action.CHANGE: Scope.SITE},
    },
    Role.WELFARE_OFFICIAL: {
        **_OFFICIAL,
        # Welfare officials may approve a screening model (someone other than its trainer: services check).
        Resource.SCREENING_MODEL: {Action.VIEW: Scope.SITE, Action.CHANGE: Scope.SITE},
        Resource.API_TOKEN: {Action.VIEW: Scope.OWN, Action.CREATE: Scope.OWN, Action.CHANGE: Scope.OWN},
    },
    Role.SAFETY_OFFICIAL: {
        **_SAFETY_OFFICIAL,
        Resource.API_TOKEN: {Action.VIEW: Scope.OWN, Action.CREATE: Scope.OWN, Action.CHANGE: Scope.OWN},
    },
    # Partner staff see the referrals sent to their own organisation (GRANTED) and answer them.
    Role.PARTNER_STAFF: {
        Resource.HOUSEHOLD: {Action.VIEW: Scope.GRANTED},
        Resource.ACCOUNT: {Action.VIEW: Scope.OWN, Action.CHANGE: Scope.OWN},
        Resource.REFERRAL: {Action.VIEW: Scope.GRANTED, Action.CHANGE: Scope.GRANTED},
        Resource.DIRECTORY: {Action.VIEW: Scope.SITE},
    },
    Role.HELPER: {
        Resource.HOUSEHOLD: {Action.VIEW: Scope.GRANTED},
        Resource.AREA: {Action.VIEW: Scope.AREA},
        Resource.ACCOUNT: {Action.VIEW: Scope.OWN, Action.CHANGE: Scope.OWN},
        Resource.HAZARD: {Action.VIEW: Scope.AREA, Action.CREATE: Scope.AREA},
        Resource.ALERT: {Action.VIEW: Scope.GRANTED, Action.CHANGE: Scope.GRANTED},
        # A helper records check-ins for the households assigned to them (GRANTED) and sees their own profile.
        Resource.CHECK_IN: {Action.VIEW: Scope.GRANTED, Action.CREATE: Scope.GRANTED},
        # Screening visits or calls assigned to the helper: they see those and record what they found.
        Resource.SCREENING: {Action.VIEW: Scope.GRANTED, Action.CHANGE: Scope.GRANTED},
        Resource.HELPER: {Action.VIEW: Scope.OWN},
        Resource.DIRECTORY: {Action.VIEW: Scope.SITE},
        # During a response, the households handed to them (name, phone, address) and their contacts.
        Resource.ROLL_CALL: {Action.VIEW: Scope.GRANTED, Action.CHANGE: Scope.GRANTED},
    },
    # Members see their area's hazards, tasks and body (names and roles; contacts are for officials),
    # record patrols and inspections, and confirm that finished work is really done.
    Role.BODY_MEMBER: {
        Resource.AREA: {Action.VIEW: Scope.AREA},
        Resource.ACCOUNT: {Action.VIEW: Scope.OWN, Action.CHANGE: Scope.OWN},
        Resource.HAZARD: {Action.VIEW: Scope.AREA, Action.CREATE: Scope.AREA},
        Resource.SAFETY_BODY: {Action.VIEW: Scope.AREA, Action.CREATE: Scope.AREA},
        Resource.SAFETY_TASK: {Action.VIEW: Scope.AREA, Action.CONFIRM: Scope.AREA},
        # A response in their area (title, checklist, counts) and the members' checklist lines; during it, the
        # households handed to them and their contacts.
        Resource.DISASTER: {Action.VIEW: Scope.AREA, Action.CONFIRM: Scope.AREA},
        Resource.ROLL_CALL: {Action.VIEW: Scope.GRANTED, Action.CHANGE: Scope.GRANTED},
    },
    Role.GUARDIAN: {
        Resource.HOUSEHOLD: {Action.VIEW: Scope.GRANTED},
        Resource.ALERT: {Action.VIEW: Scope.GRANTED, Action.CHANGE: Scope.GRANTED},
        Resource.ACCOUNT: {Action.VIEW: Scope.OWN, Action.CHANGE: Scope.OWN},
    },
}


def scope_for(role: str | None, resource: Resource, action: Action) -> Scope | None:
    if role is None:
        return None
    return MATRIX.get(Role(role), {}).get(resource, {}).get(action)
