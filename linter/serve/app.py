"""The WSGI application of ``vmsslint serve``: Azure's Compute routes for scale set upgrades, what a
custom cloud's az login needs, and the ``/vmsslint`` control API.  Paths match case-insensitively (az
and the SDK spell them differently) and any ``api-version`` is accepted.  Every error is ARM-shaped:
``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import time
import urllib.parse

from werkzeug.wrappers import Request, Response

from linter.serve import rest
from linter.serve.world import ApiError

RETRY_AFTER = "1"
SET = r"/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)/providers/microsoft\.compute/virtualmachinescalesets"
ROUTES = [
    ("GET", r"/subscriptions", "subscriptions"),
    ("GET", r"/tenants", "tenants"),
    ("GET", r"/subscriptions/(?P<sub>[^/]+)", "subscription"),
    ("GET", r"/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)", "resource_group"),
    ("GET", r"/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.compute/virtualmachinescalesets", "list_sub"),
    ("GET", SET, "list_rg"),
    ("GET", SET + r"/(?P<name>[^/]+)", "get_set"),
    ("PUT", SET + r"/(?P<name>[^/]+)", "put_set"),
    ("PATCH", SET + r"/(?P<name>[^/]+)", "patch_set"),
    ("GET", SET + r"/(?P<name>[^/]+)/virtualmachines", "instances"),
    ("POST", SET + r"/(?P<name>[^/]+)/osrollingupgrade", "start_upgrade"),
    ("POST", SET + r"/(?P<name>[^/]+)/rollingupgrades/cancel", "cancel"),
    ("GET", SET + r"/(?P<name>[^/]+)/rollingupgrades/latest", "latest"),
    ("GET", SET + r"/(?P<name>[^/]+)/osupgradehistory", "history"),
    ("POST", SET + r"/(?P<name>[^/]+)/manualupgrade", "manual_upgrade"),
    ("GET", r"/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.compute/locations/(?P<loc>[^/]+)/operations/"
            r"(?P<op>[^/]+)", "op_status"),
    ("GET", r"/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.compute/locations/(?P<loc>[^/]+)/operationresults/"
            r"(?P<op>[^/]+)", "op_result"),
    ("GET", r"/(?P<tenant>[^/]+)(?:/v2\.0)?/\.well-known/openid-configuration", "openid"),
    ("POST", r"/(?P<tenant>[^/]+)/oauth2(?:/v2\.0)?/token", "token"),
    ("GET", r"/vmsslint/state", "c_state"),
    ("GET", r"/vmsslint/clock", "c_clock_get"),
    ("POST", r"/vmsslint/clock", "c_clock"),
    ("POST", r"/vmsslint/images", "c_images"),
    ("GET", r"/vmsslint/images", "c_images_get"),
    ("POST", r"/vmsslint/faults", "c_faults"),
    ("DELETE", r"/vmsslint/faults", "c_faults_clear"),
]
COMPILED = [(m, re.compile(p + r"/?\Z", re.IGNORECASE), h) for m, p, h in ROUTES]
NO_AUTH = {"openid", "token", "c_state", "c_clock_get", "c_clock", "c_images", "c_images_get", "c_faults",
           "c_faults_clear"}
ARM = {h for _, _, h in ROUTES} - NO_AUTH


def error(status, code, message, headers=None):
    return Response(json.dumps({"error": {"code": code, "message": message}}), status=status,
                    mimetype="application/json", headers=headers)


def ok(body, status=200, headers=None):
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


class App:
    def __init__(self, world, base_url, verbose=False):
        self.world = world
        self.base = base_url.rstrip("/")
        self.verbose = verbose

    # -- WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except ApiError as exc:
            response = error(exc.status, exc.code, exc.message)
        except Exception as exc:  # never a traceback to the client
            print(f"vmsslint serve: internal error on {request.method} {request.path}: "
                  f"{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            response = error(500, "InternalServerError", f"the simulator failed: {type(exc).__name__}")
        response.headers["x-ms-request-id"] = f"{time.time_ns():x}"
        return response(environ, start_response)

    def dispatch(self, request):
        path = urllib.parse.unquote(request.path)
        allowed = []
        for method, pattern, handler in COMPILED:
            m = pattern.match(path)
            if not m:
                continue
            if method != request.method:
                allowed.append(method)
                continue
            if handler in ARM:
                self._check_arm(request, m.groupdict())
            body = None
            if request.method in ("PUT", "PATCH", "POST") and handler not in ("token",):
                body = self._json(request)
            with self.world.lock:
                self.world.sync()
                response = getattr(self, "h_" + handler)(request, body=body, **m.groupdict())
                if request.method != "GET" and self.world.state_dir:
                    self.world.save()
            return response
        if allowed:
            return error(405, "MethodNotAllowed", f"{request.method} is not allowed on {path}; use "
                         f"{' or '.join(sorted(set(allowed)))}", headers={"Allow": ", ".join(sorted(set(allowed)))})
        if self.verbose:
            print(f"vmsslint serve: no route for {request.method} {path}", file=sys.stderr, flush=True)
        return error(404, "InvalidResourceType" if path.lower().startswith("/subscriptions/") else "NotFound",
                     f"vmsslint serve does not simulate {request.method} {path} (see docs/serve.md for its routes)")

    def _check_arm(self, request, groups):
        if not request.args.get("api-version"):
            raise ApiError(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for all requests.")
        auth = request.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            raise ApiError(401, "AuthenticationFailed",
                           "Authentication failed. The 'Authorization' header is missing or is not a bearer token.")
        sub = groups.get("sub")
        if sub is not None and sub.lower() != self.world.subscription.lower():
            raise ApiError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        rg = groups.get("rg")
        if rg is not None and rg.lower() != self.world.resource_group.lower():
            raise ApiError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")

    @staticmethod
    def _json(request):
        raw = request.get_data(cache=True)
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, "InvalidRequestContent", f"The request content is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidRequestContent", "The request content must be a JSON object.")
        return body

    def _api(self, request):
        return request.args.get("api-version", "2024-11-01")

    def _lro(self, request, op, status=202, body=None):
        """202 (or the resource) with Azure-AsyncOperation, Location and Retry-After, absolute URLs."""
        prefix = (f"{self.base}/subscriptions/{self.world.subscription}/providers/Microsoft.Compute/locations/"
                  f"{op['location']}")
        q = f"?api-version={urllib.parse.quote(self._api(request))}"
        headers = {"Azure-AsyncOperation": f"{prefix}/operations/{op['id']}{q}",
                   "Retry-After": RETRY_AFTER}
        if status == 202:
            headers["Location"] = f"{prefix}/operationResults/{op['id']}{q}"
            return Response("", status=202, headers=headers)
        return ok(body, status=status, headers=headers)

    # -- subscriptions and login (az) --------------------------------------------------------------
    def _subscription(self):
        w = self.world
        return {"id": f"/subscriptions/{w.subscription}", "subscriptionId": w.subscription, "tenantId": w.tenant,
                "displayName": "vmsslint serve", "state": "Enabled",
                "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "Internal_2014-09-01",
                                         "spendingLimit": "Off"}, "authorizationSource": "RoleBased"}

    def h_subscriptions(self, request, body):
        return ok({"value": [self._subscription()]})

    def h_tenants(self, request, body):
        t = self.world.tenant
        return ok({"value": [{"id": f"/tenants/{t}", "tenantId": t, "displayName": "vmsslint serve"}]})

    def h_subscription(self, request, body, sub):
        return ok(self._subscription())

    def h_resource_group(self, request, body, sub, rg):
        w = self.world
        loc = next((ss.location for ss in w.backend.sets.values()), "westeurope")
        return ok({"id": f"/subscriptions/{w.subscription}/resourceGroups/{w.resource_group}",
                   "name": w.resource_group, "type": "Microsoft.Resources/resourceGroups", "location": loc,
                   "properties": {"provisioningState": "Succeeded"}})

    def h_openid(self, request, body, tenant):
        base = f"{self.base}/{tenant}"
        return ok({"token_endpoint": f"{base}/oauth2/v2.0/token",
                   "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                   "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                   "issuer": f"{base}/v2.0", "jwks_uri": f"{base}/discovery/v2.0/keys",
                   "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                             "client_secret_basic"],
                   "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                   "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["RS256"],
                   "scopes_supported": ["openid", "profile", "email", "offline_access"],
                   "tenant_region_scope": None, "end_session_endpoint": f"{base}/oauth2/v2.0/logout"})

    def h_token(self, request, body, tenant):
        """Any client id and secret get an (unsigned) token; nothing is checked or stored."""
        client = request.form.get("client_id") or "00000000-0000-0000-0000-000000000002"
        now = int(time.time())

        def b64(d):
            return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

        claims = {"aud": "https://management.core.windows.net/", "iss": f"{self.base}/{tenant}/v2.0",
                  "iat": now, "nbf": now, "exp": now + 3600, "tid": tenant, "oid": client, "sub": client,
                  "appid": client, "ver": "1.0"}
        token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
        return ok({"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": token})

    # -- scale sets -----------------------------------------------------------------------------------
    def h_list_sub(self, request, body, sub):
        return ok({"value": [rest.vmss(self.world, ss) for ss in self.world.backend.sets.values()]})

    def h_list_rg(self, request, body, sub, rg):
        return self.h_list_sub(request, body, sub)

    def h_get_set(self, request, body, sub, rg, name):
        return ok(rest.vmss(self.world, self.world.get_set(name)))

    def h_put_set(self, request, body, sub, rg, name):
        return self._update(request, body, name, full=True)

    def h_patch_set(self, request, body, sub, rg, name):
        return self._update(request, body, name, full=False)

    def _update(self, request, body, name, full):
        w = self.world
        try:
            ss = w.get_set(name)
        except ApiError:
            if full:
                raise ApiError(404, "ResourceNotFound",
                               f"The Resource 'Microsoft.Compute/virtualMachineScaleSets/{name}' under resource group "
                               f"'{w.resource_group}' was not found. vmsslint serve simulates the scale sets of the "
                               "templates it was started with; it does not create new ones.") from None
            raise
        changes = parse_model(w, ss, body)
        op = w.change_model(ss, changes)
        return self._lro(request, op, status=200, body=rest.vmss(w, ss, provisioning="Updating"))

    def h_instances(self, request, body, sub, rg, name):
        ss = self.world.get_set(name)
        return ok({"value": [rest.instance(self.world, ss, i) for i in ss.instances]})

    def h_start_upgrade(self, request, body, sub, rg, name):
        ss = self.world.get_set(name)
        return self._lro(request, self.world.start_os_upgrade(ss))

    def h_cancel(self, request, body, sub, rg, name):
        ss = self.world.get_set(name)
        return self._lro(request, self.world.cancel(ss))

    def h_latest(self, request, body, sub, rg, name):
        ss = self.world.get_set(name)
        doc = rest.latest(self.world, ss)
        if doc is None:
            raise ApiError(404, "ResourceNotFound", f"No rolling upgrade has run on scale set '{ss.name}' yet "
                           "(rollingUpgrades/latest does not exist).")
        return ok(doc)

    def h_history(self, request, body, sub, rg, name):
        ss = self.world.get_set(name)
        token = request.args.get("$skiptoken", "0")
        if not token.isdigit():
            raise ApiError(400, "InvalidParameter", f"$skiptoken '{token}' is not one this server gave")
        path = f"{self.base}{rest.set_id(self.world, ss.name)}/osUpgradeHistory"

        def next_url(skip):
            return f"{path}?api-version={urllib.parse.quote(self._api(request))}&$skiptoken={skip}"

        return ok(rest.history_page(self.world, ss, int(token), next_url))

    def h_manual_upgrade(self, request, body, sub, rg, name):
        ss = self.world.get_set(name)
        raw = body.get("instanceIds")
        if not isinstance(raw, list) or not raw:
            raise ApiError(400, "InvalidParameter", "'instanceIds' must be a non-empty list of instance ids")
        ids = []
        for r in raw:
            s = str(r)
            if s == "*":
                ids = [i.id for i in ss.instances]
                break
            if not s.isdigit() or not ss.has(int(s)):  # ids change with maxSurge: ask the set
                raise ApiError(404, "NotFound", f"Instance '{s}' of scale set '{ss.name}' was not found.")
            ids.append(int(s))
        return self._lro(request, self.world.manual_upgrade(ss, sorted(set(ids))))

    def h_op_status(self, request, body, sub, loc, op):
        o = self._op(op)
        status, err, end = self.world.op_status(o)
        headers = {"Retry-After": RETRY_AFTER} if status == "InProgress" else None
        return ok(rest.operation(o["id"], status, err, o["start"], end), headers=headers)

    def h_op_result(self, request, body, sub, loc, op):
        o = self._op(op)
        status, err, end = self.world.op_status(o)
        if status == "InProgress":
            return Response("", status=202, headers={"Retry-After": RETRY_AFTER,
                                                     "Location": request.url})
        if status == "Failed" and err:
            return error(409 if err["code"] != "InternalServerError" else 500, err["code"], err["message"])
        return Response("", status=200 if status == "Succeeded" else 204)

    def _op(self, op_id):
        o = self.world.ops.get(op_id)
        if o is None:
            raise ApiError(404, "NotFound", f"Operation '{op_id}' was not found.")
        return o

    # -- the control API --------------------------------------------------------------------------------
    def h_c_state(self, request, body):
        return ok(rest.state(self.world))

    def _clock(self):
        return {"now": rest.iso(self.world.now), "seconds": self.world.now, "speed": self.world.speed}

    def h_c_clock_get(self, request, body):
        return ok(self._clock())

    def h_c_clock(self, request, body):
        if "advanceMinutes" in body:
            n = body["advanceMinutes"]
            if isinstance(n, bool) or not isinstance(n, (int, float)) or n < 0 or n > 525600:
                raise ApiError(400, "InvalidParameter", "'advanceMinutes' must be a number of minutes, 0..525600")
            self.world.advance(round(n * 60))
        elif body.get("until") == "idle":
            self.world.run_until_idle()
        else:
            raise ApiError(400, "InvalidParameter", 'give {"advanceMinutes": N} or {"until": "idle"}')
        return ok(self._clock())

    def h_c_images(self, request, body):
        return ok(self.world.publish(body), status=201)

    def h_c_images_get(self, request, body):
        return ok(self.world.images)

    def h_c_faults(self, request, body):
        return ok(self.world.fault(body), status=201)

    def h_c_faults_clear(self, request, body):
        self.world.clear_faults()
        return Response("", status=204)


def _ci(d, key):
    """Case-insensitive member of a JSON object (ARM property names are case-insensitive)."""
    if not isinstance(d, dict):
        return None
    for k, v in d.items():
        if k.lower() == key.lower():
            return v
    return None


def parse_model(world, ss, body):
    """The changes a PUT/PATCH body asks for, validated; what the simulator does not model is refused."""
    from linter.sim.backend import Policy
    from linter.sim.plan import PlanError, parse_duration
    changes = {}
    props = _ci(body, "properties")
    if props is not None and not isinstance(props, dict):
        raise ApiError(400, "InvalidParameter", "'properties' must be an object")
    tags = _ci(body, "tags")
    if tags is not None:
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise ApiError(400, "InvalidParameter", "'tags' must be an object of strings")
        changes["tags"] = tags
    loc = _ci(body, "location")
    if isinstance(loc, str) and loc.replace(" ", "").lower() != ss.location.replace(" ", "").lower():
        raise ApiError(409, "PropertyChangeNotAllowed", "Changing property 'location' is not allowed.")
    cap = _ci(_ci(body, "sku"), "capacity")
    if cap is not None and cap != len(ss.instances):
        raise ApiError(409, "OperationNotAllowed", f"vmsslint serve does not simulate scaling: the set has "
                       f"{len(ss.instances)} instances (sku.capacity {cap} asked)")
    policy = _ci(props, "upgradePolicy")
    if policy is not None:
        mode = _ci(policy, "mode")
        if mode is not None:
            m = next((x for x in ("Automatic", "Manual", "Rolling") if isinstance(mode, str) and mode.lower() == x.lower()),
                     None)
            if m is None:
                raise ApiError(400, "InvalidParameter", f"upgradePolicy.mode '{mode}' is not one of Automatic, "
                               "Manual, Rolling")
            changes["mode"] = m
        rp = _ci(policy, "rollingUpgradePolicy")
        if isinstance(rp, dict):
            cur = ss.policy

            def num(key, default):
                v = _ci(rp, key)
                if v is None:
                    return default
                if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 100:
                    raise ApiError(400, "InvalidParameter", f"rollingUpgradePolicy.{key} must be 0..100")
                return v

            def flag(key, default):
                v = _ci(rp, key)
                if v is None:
                    return default
                if not isinstance(v, bool):
                    raise ApiError(400, "InvalidParameter", f"rollingUpgradePolicy.{key} must be true or false")
                return v

            pause = _ci(rp, "pauseTimeBetweenBatches")
            try:
                pause_s = cur.pause if pause is None else parse_duration(str(pause))
            except PlanError:
                raise ApiError(400, "InvalidParameter", f"pauseTimeBetweenBatches '{pause}' is not an ISO 8601 "
                               "duration") from None
            changes["policy"] = Policy(
                max_batch=num("maxBatchInstancePercent", cur.max_batch),
                max_unhealthy=num("maxUnhealthyInstancePercent", cur.max_unhealthy),
                max_unhealthy_upgraded=num("maxUnhealthyUpgradedInstancePercent", cur.max_unhealthy_upgraded),
                pause=pause_s, prioritize_unhealthy=flag("prioritizeUnhealthyInstances", cur.prioritize_unhealthy),
                cross_zone=flag("enableCrossZoneUpgrade", cur.cross_zone), max_surge=flag("maxSurge", cur.max_surge),
                rollback_on_breach=flag("rollbackFailedInstancesOnPolicyBreach", cur.rollback_on_breach))
        auto = _ci(policy, "automaticOSUpgradePolicy")
        if isinstance(auto, dict):
            en = _ci(auto, "enableAutomaticOSUpgrade")
            if en is not None:
                if not isinstance(en, bool):
                    raise ApiError(400, "InvalidParameter", "enableAutomaticOSUpgrade must be true or false")
                changes["auto_upgrade"] = en
            dis = _ci(auto, "disableAutomaticRollback")
            if isinstance(dis, bool):
                changes["disable_rollback"] = dis
    ref = _ci(_ci(_ci(props, "virtualMachineProfile"), "storageProfile"), "imageReference")
    if isinstance(ref, dict):
        meta = world.meta[ss.name]
        if ss.image_kind == "gallery":
            rid = _ci(ref, "id")
            if isinstance(rid, str):
                changes["version"] = rid.split("/versions/")[1] if "/versions/" in rid.lower() else "latest"
                if "/versions/" not in rid.lower() and meta.gallery_id is None:
                    meta.gallery_id = rid
        else:
            for key in ("publisher", "offer", "sku"):
                v = _ci(ref, key)
                cur = ss.target_image_reference.get(key)
                if v is not None and cur is not None and str(v).lower() != str(cur).lower():
                    raise ApiError(409, "OperationNotAllowed", f"vmsslint serve does not simulate changing the "
                                   f"image's {key} ({cur} to {v}); change its version")
            v = _ci(ref, "version")
            if v is not None:
                if not isinstance(v, str) or not (v.lower() == "latest" or re.match(r"^\d+(\.\d+){1,3}$", v)):
                    raise ApiError(400, "InvalidParameter", f"imageReference.version '{v}' is not 'latest' or a "
                                   "version such as 1.0.1")
                changes["version"] = v
    return changes
