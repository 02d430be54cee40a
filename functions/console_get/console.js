// The presenter console. Signs in with OAuth 2 authorization code + PKCE at the identity provider the
// page's data attributes name, keeps the token in this script's memory only (never in storage), and
// then uses the public API: the sandbox, reset, preflight and profile routes.
"use strict";

(() => {
  // The demo's customer: its profile, read through a sandbox, tells how old that sandbox's story is.
  const CUSTOMER = "aco";
  const SANDBOX_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;
  // Only the PKCE verifier and state wait here across the sign-in redirect; the token never does.
  const PENDING = "squelch-console-sign-in";

  const data = document.body.dataset;
  const config = {
    authorizeUrl: data.authorizeUrl || "",
    tokenUrl: data.tokenUrl || "",
    clientId: data.clientId || "",
    scopes: data.scopes || "openid",
    logoutUrl: data.logoutUrl || "",
  };
  const pageUrl = location.origin + location.pathname; // the redirect URI: the console's own address
  const apiBase = new URL(".", pageUrl).href; // the API that serves this page

  let session = null; // {token, username}
  let sandboxes = [];
  let selected = "default";
  let lastWarmed = null; // when this console's last Get ready warmed the functions (memory only, as the token)
  // Lambda keeps an idle instance for some minutes only: past this, warmed functions may be cold again.
  const WARM_FOR_MINUTES = 10;

  const $ = (id) => document.getElementById(id);
  const show = (element, visible) => { element.hidden = !visible; };

  class Problem extends Error {
    constructor(message, { expired = false, signIn = false, code = null } = {}) {
      super(message);
      this.expired = expired;
      this.signIn = signIn;
      this.code = code;
    }
  }

  // ---- messages: always a sentence for a person, never an API's raw answer

  function say(text, { kind = "error", action = null } = {}) {
    const box = $("message");
    $("message-text").textContent = text;
    box.className = kind === "info" ? "info" : "";
    const button = $("message-action");
    show(button, Boolean(action));
    if (action) {
      button.textContent = action.label;
      button.onclick = action.run;
    }
    show(box, true);
    // On a phone the page is long and the message above it all: brought into sight, never left a screen away.
    box.scrollIntoView({ block: "nearest" });
  }

  function quiet() { show($("message"), false); }

  function fail(error) {
    if (error instanceof Problem && (error.expired || error.signIn)) {
      session = null;
      render();
      say(error.message, { action: { label: "Sign in again", run: signIn } });
      return;
    }
    say(error instanceof Problem ? error.message : `Something went wrong in the console: ${error.message || error}`);
    if (error instanceof Problem && ["sandbox_not_found", "sandbox_owned_by_another"].includes(error.code)) load().catch(() => {});
  }

  const EXPLAINED = {
    token_expired: "Your sign-in has expired. Sign in again to go on.",
    unauthenticated: "Your sign-in was not accepted. Sign in again to go on.",
    not_a_demo_user: "You are signed in, but not as a presenter: ask an administrator to add you to the demo group.",
    sandbox_limit_reached: "This deployment already keeps as many sandboxes as it may. Delete a sandbox you no longer need, or reset an existing one.",
    default_sandbox: "The default sandbox cannot be deleted: it is what front ends without the X-Demo-Sandbox header show. Reset it instead.",
    sandbox_not_found: "That sandbox no longer exists: it was deleted, or removed after being idle. The list is refreshed.",
    sandbox_owned_by_another: "That sandbox belongs to another presenter: only they, or an administrator, may reset or delete it. Create a sandbox of your own.",
    default_sandbox_is_public: "The default sandbox cannot be private: it is what front ends without the X-Demo-Sandbox header show.",
    unknown_checkpoint: "That checkpoint is not one this deployment knows. Reload the console to get its current list.",
    unknown_story: "That story is not one this deployment knows. Reload the console to get its current list.",
    default_sandbox_tells_act1: "The default sandbox tells Act 1 as written. Create a sandbox of your own for another story or your own names.",
    invalid_sandbox: "Sandbox names are 1–40 characters: lower-case letters, digits and dashes, starting with a letter or digit.",
    database_unavailable: "The database is busy or out of reach right now. Wait a moment and try again.",
    database_not_configured: "The API has no database configured. Tell the deployment's administrator.",
    confirmation_required: "The API asked for a confirmation the console did not send. Reload the console and try again.",
  };

  function problemOf(response, payload) {
    const code = payload && payload.error && typeof payload.error.code === "string" ? payload.error.code : null;
    // API Gateway's JWT authorizer answers {"message": "Unauthorized"} and says why only in WWW-Authenticate.
    const challenge = response.headers.get("WWW-Authenticate") || "";
    if (response.status === 401) {
      const expired = code === "token_expired" || /error_description="[^"]*expired/i.test(challenge);
      return new Problem(expired ? EXPLAINED.token_expired : EXPLAINED.unauthenticated, { expired, signIn: true });
    }
    if (code && EXPLAINED[code]) return new Problem(EXPLAINED[code], { code });
    if (response.status === 503 || response.status === 504) return new Problem(EXPLAINED.database_unavailable);
    const sentence = code && typeof payload.error.message === "string" ? payload.error.message : null;
    return new Problem(sentence || `The API could not do that (HTTP ${response.status}). Try again, or reload the console.`);
  }

  async function api(method, path, { sandbox = null, body = undefined } = {}) {
    const headers = { Authorization: `Bearer ${session.token}` };
    if (sandbox) headers["X-Demo-Sandbox"] = sandbox;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(new URL(path, apiBase), {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
      });
    } catch {
      throw new Problem("The API could not be reached. Check the connection and try again.");
    }
    let payload = null;
    if (response.status !== 204) {
      try { payload = await response.json(); } catch { payload = null; }
    }
    if (!response.ok) throw problemOf(response, payload);
    return payload;
  }

  // ---- sign-in: authorization code with PKCE

  function base64url(bytes) {
    let text = "";
    for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  const randomText = (length) => base64url(crypto.getRandomValues(new Uint8Array(length)));

  async function signIn() {
    const verifier = randomText(48);
    const state = randomText(24);
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
    const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const url = new URL(config.authorizeUrl, pageUrl);
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: config.clientId,
      redirect_uri: pageUrl,
      scope: config.scopes,
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
    }).toString();
    location.assign(url.href);
  }

  function claimsOf(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
    } catch {
      return {};
    }
  }

  // What each OAuth 2 error code (RFC 6749, 4.1.2.1) means to a presenter. Only these sentences are shown:
  // the address can be written by anyone who sends a link, so no text of it (error_description, even an
  // unknown code) ever reaches the page.
  const SIGN_IN_ERRORS = {
    access_denied: "Sign-in was cancelled or refused. Sign in again when you are ready.",
    server_error: "The sign-in service failed. Try again in a moment.",
    temporarily_unavailable: "The sign-in service is busy. Try again in a moment.",
    invalid_request: "The console is not set up right for this sign-in service. Tell the deployment's administrator.",
    unauthorized_client: "The console is not set up right for this sign-in service. Tell the deployment's administrator.",
    unsupported_response_type: "The console is not set up right for this sign-in service. Tell the deployment's administrator.",
    invalid_scope: "The console is not set up right for this sign-in service. Tell the deployment's administrator.",
  };

  async function finishSignIn(answer) {
    // The code and state leave the address bar (and the history) at once.
    history.replaceState(null, "", pageUrl);
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    sessionStorage.removeItem(PENDING);
    // Nothing in an answer is looked at before its state proves this browser asked for it.
    if (!pending || typeof pending.state !== "string" || pending.state !== answer.get("state")) {
      throw new Problem("This sign-in answer does not match a sign-in started here. Sign in again.", { signIn: true });
    }
    if (answer.has("error")) {
      const known = Object.prototype.hasOwnProperty.call(SIGN_IN_ERRORS, answer.get("error"));
      throw new Problem(known ? SIGN_IN_ERRORS[answer.get("error")] : "Sign-in did not complete. Sign in again.", { signIn: true });
    }
    let response;
    try {
      response = await fetch(new URL(config.tokenUrl, pageUrl), {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          client_id: config.clientId,
          code: answer.get("code"),
          redirect_uri: pageUrl,
          code_verifier: pending.verifier,
        }),
      });
    } catch {
      throw new Problem("The sign-in service could not be reached. Check the connection and sign in again.", { signIn: true });
    }
    const tokens = await response.json().catch(() => ({}));
    if (!response.ok || typeof tokens.access_token !== "string") {
      throw new Problem("The sign-in service did not hand out a token. Sign in again.", { signIn: true });
    }
    const claims = claimsOf(tokens.access_token);
    session = {
      token: tokens.access_token,
      username: claims.username || claims["cognito:username"] || claims.email || claims.sub || "presenter",
    };
  }

  function signOut() {
    session = null;
    sandboxes = [];
    quiet();
    if (config.logoutUrl) {
      const url = new URL(config.logoutUrl, pageUrl);
      url.search = new URLSearchParams({ client_id: config.clientId, logout_uri: pageUrl }).toString();
      location.assign(url.href);
      return;
    }
    render();
  }

  // ---- what a presenter sees

  function ageText(days) {
    if (days === 0) return "today's";
    if (days < 0) return `dated ${-days} day${days === -1 ? "" : "s"} ahead`;
    return `${days} day${days === 1 ? "" : "s"} old`;
  }

  function ageBadge(days, state) {
    const badge = document.createElement("span");
    badge.className = `badge ${days === 0 ? "fresh" : "stale"}`;
    badge.textContent = state === "out_of_range" ? `${ageText(days)}: out of range` : ageText(days);
    return badge;
  }

  const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

  function since(timestamp) {
    const seconds = (Date.parse(timestamp) - Date.now()) / 1000;
    const steps = [[60, "second"], [60, "minute"], [24, "hour"], [30, "day"], [12, "month"], [Infinity, "year"]];
    let value = seconds;
    for (const [size, unit] of steps) {
      if (Math.abs(value) < size) return relative.format(Math.round(value), unit);
      value /= size;
    }
    return timestamp;
  }

  // A cell names its column in data-label: on a narrow screen each sandbox is a card, whose values the
  // stylesheet heads with these labels in place of the table's header row.
  function cell(label, ...children) {
    const td = document.createElement("td");
    if (label) td.dataset.label = label;
    const value = document.createElement("div");
    value.append(...children);
    td.append(value);
    return td;
  }

  function span(className, text) {
    const element = document.createElement("span");
    element.className = className;
    element.textContent = text;
    return element;
  }

  function button(label, run, { title = "", disabled = false, kind = "" } = {}) {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.title = title;
    element.disabled = disabled;
    if (kind) element.className = kind;
    element.addEventListener("click", run);
    return element;
  }

  // Whose a sandbox is, and whether front ends need its key: one line under its name.
  function ownership(sandbox) {
    const privacy = sandbox.private ? "private: workflow writes need its key" : "public";
    if (sandbox.name === "default") return "shared: every presenter may reset it";
    if (sandbox.owner === null) return `no owner yet: its next reset makes it the presenter's · ${privacy}`;
    const whose = session && sandbox.owner === session.username ? "yours" : `owner: ${sandbox.owner}`;
    return `${whose} · ${privacy}`;
  }

  function renderSandboxes() {
    const rows = $("sandbox-rows");
    rows.replaceChildren();
    for (const sandbox of sandboxes) {
      const row = document.createElement("tr");
      row.dataset.sandbox = sandbox.name;
      if (sandbox.name === selected) row.className = "selected";
      const isDefault = sandbox.name === "default";
      const othersOnly = "Another presenter's sandbox: only they, or an administrator, may reset or delete it";
      const actions = document.createElement("td");
      actions.className = "actions";
      actions.append(
        button("Use", () => use(sandbox.name), { title: "Put its header lines above, to paste into the front end" }),
        button("Check story", () => act(() => checkStory(sandbox.name))),
        button("Reset…", () => act(() => resetSandbox(sandbox)), {
          disabled: !sandbox.can_manage, title: sandbox.can_manage ? "" : othersOnly,
        }),
        button("Delete…", () => act(() => deleteSandbox(sandbox)), {
          disabled: isDefault || !sandbox.can_manage,
          title: isDefault ? "The default sandbox cannot be deleted; reset it instead" : sandbox.can_manage ? "" : othersOnly,
        }),
      );
      row.append(
        cell(
          null,
          span("name", sandbox.name),
          span("sub", isDefault ? "what front ends without the header show" : `X-Demo-Sandbox: ${sandbox.name}`),
          span("sub owner", ownership(sandbox)),
        ),
        cell("Checkpoint", span("checkpoint", sandbox.checkpoint), span("sub story", sandbox.story)),
        cell("Story", ageBadge(sandbox.story_age_days, sandbox.story_state), span("sub", `seeded around ${sandbox.anchor_date}`)),
        cell("Last activity", span("activity", since(sandbox.last_activity_at)), span("sub", new Date(sandbox.last_activity_at).toLocaleString("en-GB"))),
        actions,
      );
      rows.append(row);
    }
    const fallback = sandboxes.find((s) => s.name === "default");
    const freshness = $("freshness");
    if (fallback) {
      const fresh = fallback.story_age_days === 0;
      freshness.className = `card ${fresh ? "fresh" : "stale"}`;
      $("default-age").textContent = fresh
        ? `The default story is today's: it was seeded around ${fallback.anchor_date}.`
        : fallback.story_state === "out_of_range"
          ? `Warning: the default story is out of range: it is ${ageText(fallback.story_age_days)} (seeded around ${fallback.anchor_date}), past the year its dates hold for, so the API does not tell it (409 story_out_of_range). Reset it, or wait for the daily refresh.`
          : `Warning: the default story is not today's. It is ${ageText(fallback.story_age_days)} (seeded around ${fallback.anchor_date}): its dates have drifted from the demo's. Reset it before you present, or wait for the daily refresh.`;
    }
  }

  function use(name) {
    selected = name;
    $("header-line").value = `X-Demo-Sandbox: ${name}`;
    // A private sandbox's front end sends its key too; only its owner (or an administrator) is shown it.
    const chosen = sandboxes.find((s) => s.name === name);
    const key = chosen && chosen.private ? chosen.sandbox_key : null;
    show($("key-line-box"), Boolean(key));
    $("key-line").value = key ? `X-Demo-Sandbox-Key: ${key}` : "";
    show($("key-hidden"), Boolean(chosen && chosen.private && !key));
    renderSandboxes();
  }

  function render() {
    const signedIn = Boolean(session);
    show($("signed-in"), signedIn);
    show($("signed-out"), !signedIn);
    show($("who"), signedIn);
    const configured = Boolean(config.authorizeUrl && config.tokenUrl && config.clientId);
    show($("sign-in"), configured);
    show($("not-configured"), !configured);
    if (signedIn) {
      $("username").textContent = session.username;
      $("api-base").value = apiBase;
      renderSandboxes();
    }
  }

  async function load() {
    sandboxes = (await api("GET", "api/demo/sandboxes")).sandboxes;
    use(sandboxes.some((s) => s.name === selected) ? selected : "default");
  }

  async function act(work) {
    quiet();
    try {
      await work();
    } catch (error) {
      fail(error);
    }
  }

  // ---- confirmations

  function confirmWith({ title, text, ok, checkpoint = null, privately = null }) {
    const dialog = $("confirm");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    $("confirm-ok").textContent = ok;
    show($("confirm-choice"), checkpoint !== null);
    if (checkpoint !== null) $("confirm-checkpoint").value = checkpoint;
    show($("confirm-privacy"), privately !== null);
    if (privately !== null) $("confirm-private").checked = privately;
    return new Promise((resolve) => {
      const finish = (answer) => {
        $("confirm-ok").onclick = null;
        $("confirm-cancel").onclick = null;
        dialog.onclose = null;
        if (dialog.open) dialog.close();
        resolve(answer);
      };
      $("confirm-ok").onclick = () => finish({
        ok: true, checkpoint: $("confirm-checkpoint").value, private: $("confirm-private").checked,
      });
      $("confirm-cancel").onclick = () => finish({ ok: false });
      dialog.onclose = () => finish({ ok: false });
      dialog.showModal();
    });
  }

  // ---- what a presenter does

  // private: true or false sets it; null leaves the sandbox as it is (and the default one is always public).
  // The story is the chosen checkpoint's (its option's data-story); the names are sent only when given.
  async function reset(name, checkpoint, privately = null, names = {}) {
    const body = { confirm: true, checkpoint, story: storyOf(checkpoint) };
    if (privately !== null) body.private = privately;
    for (const [field, value] of Object.entries(names)) if (value) body[field] = value;
    return api("POST", "api/demo/reset", { sandbox: name, body });
  }

  function storyOf(checkpoint) {
    const option = [...$("new-checkpoint").options].find((o) => o.value === checkpoint);
    return option ? option.dataset.story : undefined;
  }

  function privacyText(done) {
    return done.private ? " It is private: the front end sends its key too (X-Demo-Sandbox-Key, above)." : "";
  }

  async function createSandbox(event) {
    event.preventDefault();
    const name = $("new-name").value.trim();
    const checkpoint = $("new-checkpoint").value;
    const privately = name === "default" ? null : $("new-private").checked;
    if (!SANDBOX_NAME.test(name)) throw new Problem(EXPLAINED.invalid_sandbox);
    const existing = sandboxes.find((s) => s.name === name);
    if (existing && !existing.can_manage) throw new Problem(EXPLAINED.sandbox_owned_by_another);
    if (existing) {
      // The API resets a sandbox that exists; the presenter who owns it would lose their demo.
      const answer = await confirmWith({
        title: `“${name}” already exists`,
        text: `It is at ${existing.checkpoint}, its story ${ageText(existing.story_age_days)}, last active ${since(existing.last_activity_at)}. Creating it again resets it to ${checkpoint}: whatever was presented in it since its last reset is lost.`,
        ok: `Reset ${name}`,
      });
      if (!answer.ok) return;
    }
    const names = { csm_name: $("new-csm-name").value.trim(), account_name: $("new-account-name").value.trim() };
    const done = await reset(name, checkpoint, privately, names);
    $("new-name").value = "";
    selected = name;
    await load();
    use(name);
    const what = done.created ? "created" : existing ? "reset" : "already existed (someone created it moments ago) and was reset";
    say(`Sandbox ${name} ${what} from ${done.checkpoint}; its story is seeded around ${done.anchor_date}.${privacyText(done)}`, { kind: "info" });
  }

  async function resetSandbox(sandbox) {
    const answer = await confirmWith({
      title: `Reset ${sandbox.name}?`,
      text: `Its story is seeded again around today from the checkpoint you choose. Whatever was presented in it since its last reset is lost.`,
      ok: `Reset ${sandbox.name}`,
      checkpoint: sandbox.checkpoint,
      privately: sandbox.name === "default" ? null : sandbox.private,
    });
    if (!answer.ok) return;
    const done = await reset(sandbox.name, answer.checkpoint, sandbox.name === "default" ? null : answer.private);
    await load();
    say(`Sandbox ${sandbox.name} reset to ${done.checkpoint}; its story is seeded around ${done.anchor_date}.${privacyText(done)}`, { kind: "info" });
  }

  async function deleteSandbox(sandbox) {
    const answer = await confirmWith({
      title: `Delete ${sandbox.name}?`,
      text: `Its story and everything presented in it are removed. A front end that still sends X-Demo-Sandbox: ${sandbox.name} gets “not found” until it is created again.`,
      ok: `Delete ${sandbox.name}`,
    });
    if (!answer.ok) return;
    try {
      await api("DELETE", `api/demo/sandboxes/${encodeURIComponent(sandbox.name)}`);
    } finally {
      await load().catch(() => {});
    }
    if ($("story-sandbox").textContent === sandbox.name) show($("story"), false);
    say(`Sandbox ${sandbox.name} deleted.`, { kind: "info" });
  }

  async function checkStory(name) {
    const profile = await api("GET", `api/customers/${CUSTOMER}`, { sandbox: name });
    $("story-sandbox").textContent = name;
    const facts = [
      ["Customer", `${profile.name} (${profile.customer_id})`],
      ["Story seeded around", profile.story_anchor_date || "not a demo story"],
      ["Story age", profile.story_age_days === null ? "unknown" : ageText(profile.story_age_days)],
      ["Renewal", profile.renewal_date ? `${profile.renewal_date}, in ${profile.days_to_renewal} days` : "none"],
      ["Health score", profile.health_score === null ? "none" : String(profile.health_score)],
    ];
    const list = $("story-facts");
    list.replaceChildren();
    for (const [term, value] of facts) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      list.append(dt, dd);
    }
    show($("story"), true);
    $("story").scrollIntoView({ block: "nearest" });
  }

  // ---- Get ready: the preflight's report, said in the console's own sentences

  function ms(value) {
    return value === null || value === undefined ? "–" : `${Math.round(value)} ms`;
  }

  function todo(report) {
    const items = [];
    const box = report.sandbox;
    if (report.database.state !== "ok") {
      items.push("The database does not answer. Check it (or ask the deployment's administrator), then press Get ready again.");
    } else if (box.exists === false) {
      items.push(`Your sandbox ${box.name} does not exist: create it below, or use another one.`);
    } else if (!box.todays_story) {
      items.push(`Reset ${box.name} so its story is today's.`);
    }
    const failed = report.functions.filter((f) => f.state !== "warm").map((f) => f.function);
    if (report.functions.length === 0) items.push("No function was warmed: this deployment names none to warm. Tell its administrator.");
    if (failed.length) {
      items.push(`${failed.length === 1 ? "One function" : `${failed.length} functions`} did not warm (${failed.join(", ")}). Press Get ready again; if it fails again, their logs say why.`);
    }
    if (report.ai.state !== "ok") items.push("The AI provider is not ready: the AI screens will show their canned text.");
    return items;
  }

  function renderLastWarmed() {
    const line = $("ready-last");
    if (!lastWarmed) {
      line.textContent = "Functions not warmed from this console yet.";
      return;
    }
    const at = lastWarmed.toLocaleTimeString("en-GB");
    const old = Date.now() - lastWarmed.getTime() > WARM_FOR_MINUTES * 60 * 1000;
    line.textContent = `Functions last warmed ${since(lastWarmed.toISOString())} (${at}).` +
      (old ? " They may have gone cold since: press Get ready again just before you present." : "");
  }

  function renderReadiness(report) {
    const items = todo(report);
    const ready = report.verdict === "ready" && items.length === 0;
    $("readiness").className = `card ${ready ? "ready" : "not-ready"}`;
    const warmed = report.functions.filter((f) => f.state === "warm").length;
    const cold = report.functions.filter((f) => f.was_cold).length;
    $("ready-verdict").textContent = ready
      ? `Ready: all ${warmed} functions are warm (${cold} were cold), the database answers and the story in ${report.sandbox.name} is today's.`
      : `Not ready yet: ${warmed} of ${report.functions.length} functions warm. To do:`;
    show($("ready-verdict"), true);
    const list = $("ready-todo");
    list.replaceChildren(...items.map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }));
    show(list, items.length > 0);
    const box = report.sandbox;
    const warning = box.exists && !box.todays_story
      ? `Warning: the story in ${box.name} is not today's. It is ${ageText(box.story_age_days)} (seeded around ${box.anchor_date}${box.story_state === "out_of_range" ? ", out of range: the API does not tell it" : ""}). Reset it before you present.`
      : "";
    $("ready-story-warning").textContent = warning;
    show($("ready-story-warning"), Boolean(warning));
    const rows = $("ready-functions");
    rows.replaceChildren(...report.functions.map((f) => {
      const li = document.createElement("li");
      const first = f.instances[0];
      const badge = span(`badge ${f.state === "warm" ? "fresh" : "stale"}`, f.state !== "warm" ? "did not warm" : f.was_cold ? "cold → warm" : "was warm");
      const detail = first
        ? `init ${ms(first.init_ms)} · secret ${ms(first.secret_ms)} · connect ${ms(first.connect_ms)} · answered in ${ms(first.round_trip_ms)}`
        : "no answer";
      li.append(span("name", f.function), badge, span("sub", f.instances.length > 1 ? `${detail} (first of ${f.instances.length})` : detail));
      return li;
    }));
    show($("ready-details"), report.functions.length > 0);
    lastWarmed = report.functions.length ? new Date(report.checked_at) : lastWarmed;
    renderLastWarmed();
  }

  async function getReady() {
    const trigger = $("get-ready");
    trigger.disabled = true;
    trigger.textContent = "Getting ready…";
    try {
      renderReadiness(await api("POST", "api/demo/preflight", { sandbox: selected }));
      $("readiness").scrollIntoView({ block: "nearest" });
    } finally {
      trigger.disabled = false;
      trigger.textContent = "Get ready";
    }
  }

  async function copy(event) {
    const target = $(event.currentTarget.dataset.copy);
    const label = event.currentTarget;
    try {
      await navigator.clipboard.writeText(target.value);
    } catch {
      getSelection().selectAllChildren(target); // the clipboard is refused (an insecure origin, say): selected, to copy by hand
      return;
    }
    label.textContent = "Copied";
    setTimeout(() => { label.textContent = "Copy"; }, 1500);
  }

  // ---- start

  async function start() {
    $("sign-in").addEventListener("click", () => act(signIn));
    $("sign-out").addEventListener("click", signOut);
    $("refresh").addEventListener("click", () => act(load));
    $("get-ready").addEventListener("click", () => act(getReady));
    setInterval(renderLastWarmed, 30 * 1000);
    $("create-form").addEventListener("submit", (event) => act(() => createSandbox(event)));
    for (const element of document.querySelectorAll("button.copy")) element.addEventListener("click", copy);
    const answer = new URLSearchParams(location.search);
    if (answer.has("code") || answer.has("error")) {
      try {
        await finishSignIn(answer);
      } catch (error) {
        render();
        fail(error);
        return;
      }
    }
    render();
    if (session) await act(load);
  }

  start();
})();
