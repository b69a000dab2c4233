// OnTrack therapist dashboard: a small hash-routed page over the server's /v1 API.
// No framework and no build step. Every string that comes from the server is put into the page
// with textContent / createElement (never innerHTML), except the session report, which is a
// complete HTML page shown in a sandboxed iframe without scripts.
(function () {
  "use strict";

  const TOKEN_KEY = "ontrack.token";
  const SVGNS = "http://www.w3.org/2000/svg";

  const app = document.getElementById("app");
  const errorBanner = document.getElementById("error");
  const signinSection = document.getElementById("signin");
  const signinForm = document.getElementById("signin-form");
  const signinMessage = document.getElementById("signin-message");
  const tokenInput = document.getElementById("token");
  const nav = document.getElementById("nav");
  const whoami = document.getElementById("whoami");

  const state = {
    verified: false, // the stored token answered GET /v1/tokens
    tokens: null, // { list, at } — the last GET /v1/tokens answer
    generation: 0, // bumped on every navigation; stale renders are dropped
    cleanup: null, // run when navigating away (closes the live socket)
  };

  // ---------------------------------------------------------------------------------------
  // DOM helpers

  function build(node, attrs, kids) {
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === "text") node.textContent = String(value);
        else if (key.startsWith("on") && typeof value === "function") {
          node.addEventListener(key.slice(2), value);
        } else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      node.append(kid instanceof Node ? kid : String(kid));
    }
    return node;
  }

  /** An HTML element; string children become text nodes. */
  function el(tag, attrs, ...kids) {
    return build(document.createElement(tag), attrs, kids);
  }

  /** An SVG element. */
  function svg(tag, attrs, ...kids) {
    return build(document.createElementNS(SVGNS, tag), attrs, kids);
  }

  function link(href, text, attrs) {
    return el("a", Object.assign({ href }, attrs || {}), text);
  }

  function button(text, onclick, attrs) {
    return el("button", Object.assign({ type: "button", class: "button secondary", onclick }, attrs || {}), text);
  }

  function enc(text) {
    return encodeURIComponent(text);
  }

  // ---------------------------------------------------------------------------------------
  // Formatting

  const dateTimeFormat = new Intl.DateTimeFormat("en-GB", {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
  });
  const dayFormat = new Intl.DateTimeFormat("en-GB", {
    day: "numeric", month: "short", year: "numeric", timeZone: "UTC",
  });
  const shortDayFormat = new Intl.DateTimeFormat("en-GB", {
    day: "numeric", month: "short", timeZone: "UTC",
  });

  /** Seconds since 1970 → "1 Dec 2026, 14:05" (local time). */
  function formatTime(seconds) {
    if (typeof seconds !== "number" || !isFinite(seconds)) return "—";
    return dateTimeFormat.format(new Date(seconds * 1000));
  }

  /** "2026-12-01" → days since 1970 (UTC), or NaN. */
  function dayNumber(text) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text || ""));
    if (!m) return NaN;
    return Date.UTC(+m[1], +m[2] - 1, +m[3]) / 86400000;
  }

  function formatDay(text, short) {
    const day = dayNumber(text);
    if (!isFinite(day)) return String(text || "—");
    return (short ? shortDayFormat : dayFormat).format(new Date(day * 86400000));
  }

  function todayText() {
    const now = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  }

  function formatNumber(value, digits) {
    if (typeof value !== "number" || !isFinite(value)) return "—";
    const d = digits === undefined ? 1 : digits;
    return String(Number(value.toFixed(d)));
  }

  function plural(n, one, many) {
    return `${n} ${n === 1 ? one : many || one + "s"}`;
  }

  /** "leftKnee" → "left knee", "trunk_lean" → "trunk lean". */
  function humanize(name) {
    return String(name)
      .replace(/[_-]+/g, " ")
      .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
      .toLowerCase();
  }

  // ---------------------------------------------------------------------------------------
  // Token and API

  function getToken() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (e) {
      return "";
    }
  }

  function setToken(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    state.verified = false;
    state.tokens = null;
  }

  function clearToken() {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* storage unavailable: nothing stored */
    }
    state.verified = false;
    state.tokens = null;
  }

  class ApiError extends Error {
    constructor(status, message, path) {
      super(message);
      this.status = status;
      this.path = path;
    }
  }

  /** Calls the API; resolves to the JSON body (or text with opts.text), rejects with ApiError. */
  async function api(path, opts) {
    const options = opts || {};
    const method = options.method || "GET";
    const headers = { Authorization: "Bearer " + getToken() };
    let body;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    if (!options.text) headers.Accept = "application/json";
    let response;
    try {
      response = await fetch(path, { method, headers, body, cache: "no-store" });
    } catch (e) {
      throw new ApiError(0, `Could not reach the server (${e.message}).`, path);
    }
    const text = await response.text();
    if (!response.ok) {
      let message = "";
      try {
        const json = JSON.parse(text);
        if (json && json.error && typeof json.error.message === "string") message = json.error.message;
      } catch (e) {
        /* not JSON: use the text */
      }
      if (!message) message = text.trim().slice(0, 300) || response.statusText || "the request failed";
      const error = new ApiError(response.status, message, path);
      if (response.status === 401 && !options.signingIn) signedOut(error);
      throw error;
    }
    if (options.text) return text;
    if (!text.trim()) return null;
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ApiError(response.status, `The server's answer to ${path} is not JSON.`, path);
    }
  }

  function describe(error) {
    if (error instanceof ApiError) {
      return error.status ? `${error.message} (HTTP ${error.status})` : error.message;
    }
    return (error && error.message) || String(error);
  }

  /** GET /v1/tokens, reusing an answer a few seconds old (sign-in just fetched it). */
  async function tokenList() {
    if (state.tokens && Date.now() - state.tokens.at < 5000) return state.tokens.list;
    const list = await api("/v1/tokens");
    state.tokens = { list: Array.isArray(list) ? list : [], at: Date.now() };
    return state.tokens.list;
  }

  /** The patients: distinct names of unrevoked patient tokens, sorted. */
  function patientNames(tokens) {
    const names = new Set();
    for (const t of tokens) {
      if (t && t.role === "patient" && (t.revoked === null || t.revoked === undefined)) names.add(t.name);
    }
    return [...names].sort((a, b) => a.localeCompare(b));
  }

  // ---------------------------------------------------------------------------------------
  // Messages

  function showError(message) {
    const p = el("p", null, String(message));
    if (errorBanner.hidden) errorBanner.replaceChildren();
    errorBanner.append(p);
    errorBanner.hidden = false;
  }

  function clearError() {
    errorBanner.replaceChildren();
    errorBanner.hidden = true;
  }

  function loading(text) {
    return el("p", { class: "loading", role: "status" }, text || "Loading…");
  }

  // ---------------------------------------------------------------------------------------
  // Sign-in

  function showSignIn(message) {
    closeCurrent();
    state.generation += 1; // drop any page still loading
    app.replaceChildren();
    nav.hidden = true;
    signinSection.hidden = false;
    if (message) {
      signinMessage.textContent = message;
      signinMessage.hidden = false;
    } else {
      signinMessage.hidden = true;
    }
    tokenInput.value = "";
    tokenInput.focus();
  }

  function signedOut(error) {
    clearToken();
    clearError();
    showSignIn(`The server did not accept the token: ${describe(error)}. Please sign in again.`);
  }

  /** Checks the stored token with GET /v1/tokens (therapists and admins only). */
  async function verify() {
    try {
      const list = await api("/v1/tokens", { signingIn: true });
      state.tokens = { list: Array.isArray(list) ? list : [], at: Date.now() };
      state.verified = true;
      signinSection.hidden = true;
      nav.hidden = false;
      const therapists = new Set(state.tokens.list.map((t) => t && t.therapist).filter(Boolean));
      whoami.textContent = therapists.size === 1 ? `Signed in as ${[...therapists][0]}` : "Signed in";
      return true;
    } catch (error) {
      if (error.status === 401 || error.status === 403) {
        clearToken();
        showSignIn(`This is not a therapist token: ${describe(error)}`);
      } else {
        showSignIn();
        signinMessage.textContent = `Could not check the token: ${describe(error)}`;
        signinMessage.hidden = false;
        tokenInput.value = getToken();
      }
      return false;
    }
  }

  signinForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = tokenInput.value.trim();
    if (!token) {
      signinMessage.textContent = "Enter your therapist token (it starts with otk_).";
      signinMessage.hidden = false;
      tokenInput.focus();
      return;
    }
    setToken(token);
    const submit = document.getElementById("signin-submit");
    submit.disabled = true;
    try {
      if (await verify()) {
        if (!/^#\/(patients|patient\/|session\/|live\/|programme\/)/.test(location.hash)) {
          history.replaceState(null, "", "#/patients");
        }
        route();
      }
    } finally {
      submit.disabled = false;
    }
  });

  document.getElementById("signout").addEventListener("click", () => {
    closeCurrent();
    clearToken();
    clearError();
    history.replaceState(null, "", "#/patients");
    showSignIn("You have signed out.");
  });

  /** `#token=XYZ[&route=/patient/ann]`: store the token, then drop it from the address bar. */
  function takeFragmentToken() {
    const fragment = location.hash.replace(/^#/, "");
    if (!/(^|&)token=/.test(fragment)) return;
    const params = new URLSearchParams(fragment);
    const token = (params.get("token") || "").trim();
    if (token) setToken(token);
    let target = params.get("route") || "/patients";
    if (!target.startsWith("/")) target = "/" + target;
    history.replaceState(null, "", location.pathname + location.search + "#" + target);
  }

  // ---------------------------------------------------------------------------------------
  // Routing

  function closeCurrent() {
    if (state.cleanup) {
      const fn = state.cleanup;
      state.cleanup = null;
      try {
        fn();
      } catch (e) {
        /* already closed */
      }
    }
  }

  async function route() {
    closeCurrent();
    const generation = ++state.generation;
    clearError();
    window.scrollTo(0, 0);
    if (!getToken()) {
      showSignIn();
      return;
    }
    if (!state.verified) {
      app.replaceChildren(loading("Checking your token…"));
      if (!(await verify())) return;
      if (generation !== state.generation) return;
    }
    signinSection.hidden = true;
    nav.hidden = false;

    const hash = location.hash.replace(/^#/, "");
    const q = hash.indexOf("?");
    const path = q >= 0 ? hash.slice(0, q) : hash;
    const query = new URLSearchParams(q >= 0 ? hash.slice(q + 1) : "");
    let parts;
    try {
      parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    } catch (e) {
      parts = [];
    }
    const view = {
      current: () => generation === state.generation,
      show(...nodes) {
        if (generation !== state.generation) return false;
        app.replaceChildren(...nodes);
        const heading = app.querySelector("h1");
        if (heading) {
          heading.setAttribute("tabindex", "-1");
          document.title = `${heading.textContent} — OnTrack`;
          // after a navigation the focused link is gone: start from the page's heading
          const active = document.activeElement;
          if (!active || active === document.body || !active.isConnected) heading.focus({ preventScroll: true });
        }
        return true;
      },
      onLeave(fn) {
        if (generation === state.generation) state.cleanup = fn;
        else fn();
      },
      error(message) {
        if (generation === state.generation) showError(message);
      },
    };
    document.getElementById("nav-patients").setAttribute("aria-current", parts[0] === "patients" ? "page" : "false");

    try {
      if (parts[0] === "patients" && parts.length === 1) await pagePatients(view);
      else if (parts[0] === "patient" && parts.length === 2) await pagePatient(view, parts[1], query);
      else if (parts[0] === "session" && parts.length === 2) await pageSession(view, parts[1]);
      else if (parts[0] === "live" && parts.length === 2) await pageLive(view, parts[1]);
      else if (parts[0] === "programme" && parts[1] === "new" && parts.length === 2) {
        await pageProgrammeForm(view, null, query);
      } else if (parts[0] === "programme" && parts[2] === "edit" && parts.length === 3) {
        await pageProgrammeForm(view, parts[1], query);
      } else {
        history.replaceState(null, "", "#/patients");
        await pagePatients(view);
      }
    } catch (error) {
      if (!view.current() || (error instanceof ApiError && error.status === 401)) return;
      view.show(
        el("h1", null, "Something went wrong"),
        el("p", { class: "muted" }, "The page could not be loaded."),
        el("div", { class: "actions" }, button("Try again", () => route()), link("#/patients", "Back to patients", { class: "button secondary" }))
      );
      showError(describe(error));
    }
  }

  window.addEventListener("hashchange", () => {
    takeFragmentToken();
    route();
  });

  // ---------------------------------------------------------------------------------------
  // Shared pieces

  function pageHeader(title, options) {
    const o = options || {};
    return el(
      "div",
      { class: "page-header" },
      o.back ? el("p", { class: "breadcrumb" }, link(o.back.href, "← " + o.back.text, { id: "back" })) : null,
      el("div", { class: "page-title-row" },
        el("div", null, el("h1", null, title), o.subtitle ? el("p", { class: "subtitle" }, o.subtitle) : null),
        o.actions ? el("div", { class: "actions" }, o.actions) : null)
    );
  }

  function card(title, attrs, ...kids) {
    const headingId = "h-" + Math.random().toString(36).slice(2, 9);
    return el("section", Object.assign({ class: "card", "aria-labelledby": headingId }, attrs || {}),
      title ? el("h2", { id: headingId }, title) : null, kids);
  }

  /** A bar showing a fraction; the number is given in text next to it by the caller. */
  function bar(fraction, label) {
    const f = Math.max(0, Math.min(1, isFinite(fraction) ? fraction : 0));
    return el("span", { class: "bar", role: "img", "aria-label": label || `${Math.round(f * 100)} percent` },
      el("span", { class: "bar-fill", style: `width:${(f * 100).toFixed(1)}%` }));
  }

  function adherenceText(adherence) {
    const done = adherence && typeof adherence.done === "number" ? adherence.done : 0;
    const prescribed = adherence && typeof adherence.prescribed === "number" ? adherence.prescribed : 0;
    return `${done} of ${prescribed} sessions done`;
  }

  function newestFirst(a, b) {
    return (b.created || 0) - (a.created || 0) || String(b.id).localeCompare(String(a.id));
  }

  function settledValue(result, what, view, fallback) {
    if (result.status === "fulfilled") return result.value;
    if (result.reason instanceof ApiError && result.reason.status === 401) throw result.reason;
    view.error(`Could not load ${what}: ${describe(result.reason)}`);
    return fallback;
  }

  function table(headers, rows, attrs) {
    return el("div", { class: "table-wrap" },
      el("table", attrs || null,
        el("thead", null, el("tr", null, headers.map((h) =>
          typeof h === "string" ? el("th", { scope: "col" }, h) : el("th", Object.assign({ scope: "col" }, h.attrs), h.text)))),
        el("tbody", null, rows)));
  }

  // ---------------------------------------------------------------------------------------
  // #/patients

  async function pagePatients(view) {
    view.show(pageHeader("Patients"), loading("Loading patients…"));
    const [tokens, programmes, sessions] = await Promise.allSettled([
      tokenList(), api("/v1/programmes"), api("/v1/sessions"),
    ]);
    if (tokens.status === "rejected") throw tokens.reason;
    if (!view.current()) return;
    const names = patientNames(tokens.value);
    const progs = settledValue(programmes, "the programmes", view, []) || [];
    const sess = settledValue(sessions, "the sessions", view, []) || [];

    const byPatient = new Map();
    for (const p of progs) {
      const who = p && p.definition && p.definition.patient;
      if (!byPatient.has(who)) byPatient.set(who, []);
      byPatient.get(who).push(p);
    }
    for (const list of byPatient.values()) list.sort(newestFirst);

    const progress = new Map();
    const wanted = names.flatMap((n) => byPatient.get(n) || []);
    const answers = await Promise.allSettled(wanted.map((p) => api(`/v1/programmes/${enc(p.id)}/progress`)));
    if (!view.current()) return;
    answers.forEach((a, i) => {
      if (a.status === "fulfilled") progress.set(wanted[i].id, a.value);
      else settledValue(a, `the progress of “${wanted[i].definition.name}”`, view, null);
    });

    const rows = names.map((name) => {
      const mine = sess.filter((s) => s.patient === name);
      const open = mine.filter((s) => s.open);
      const last = mine.reduce((m, s) => Math.max(m, s.created || 0), 0);
      const programmes = byPatient.get(name) || [];
      const programmeCell = programmes.length
        ? el("ul", { class: "plain programme-list" }, programmes.map((p) => {
            const pr = progress.get(p.id);
            const a = pr && pr.adherence;
            return el("li", { class: "programme-summary", "data-programme": p.id },
              el("span", { class: "programme-name" }, p.definition.name),
              a ? el("span", { class: "adherence-inline" },
                bar(a.prescribed ? a.done / a.prescribed : 0, adherenceText(a)),
                el("span", { class: "adherence-text" }, adherenceText(a))) : null);
          }))
        : el("span", { class: "muted" }, "No programme");
      return el("tr", { class: "patient", "data-patient": name },
        el("th", { scope: "row" }, link(`#/patient/${enc(name)}`, name, { class: "patient-link" })),
        el("td", null, programmeCell),
        el("td", { class: "num", "data-sessions": mine.length }, String(mine.length)),
        el("td", null, last ? formatTime(last) : el("span", { class: "muted" }, "—")),
        el("td", null, open.length
          ? open.map((s) => link(`#/live/${enc(s.id)}`, "● Watch live", { class: "live-link" }))
          : el("span", { class: "muted" }, "—")));
    });

    const content = names.length
      ? table(["Patient", "Programme and adherence", { text: "Sessions", attrs: { class: "num" } }, "Last session", "Live now"], rows, { id: "patients" })
      : el("p", { class: "empty", id: "patients" }, "No patients yet. Issue a patient token (ontrack token create, or POST /v1/tokens) to add one.");

    view.show(
      pageHeader("Patients", {
        subtitle: `${plural(names.length, "patient")} with an active token`,
        actions: [link("#/programme/new", "New programme", { class: "button primary", id: "new-programme" })],
      }),
      el("section", { class: "card flush", "aria-label": "Patients" }, content)
    );
  }

  // ---------------------------------------------------------------------------------------
  // #/patient/NAME

  async function pagePatient(view, name, query) {
    view.show(pageHeader(name, { back: { href: "#/patients", text: "Patients" } }), loading());
    const [programmes, sessions, exercises] = await Promise.allSettled([
      api("/v1/programmes"), api("/v1/sessions"), api("/v1/exercises"),
    ]);
    if (!view.current()) return;
    const progs = (settledValue(programmes, "the programmes", view, []) || [])
      .filter((p) => p && p.definition && p.definition.patient === name)
      .sort(newestFirst);
    const sess = (settledValue(sessions, "the sessions", view, []) || [])
      .filter((s) => s.patient === name)
      .sort(newestFirst);
    const exerciseNames = new Map((settledValue(exercises, "the exercise library", view, []) || [])
      .map((e) => [e.id, e.name]));
    const programmeNames = new Map(progs.map((p) => [p.id, p.definition.name]));

    const wantedId = query.get("programme");
    const programme = (wantedId && progs.find((p) => p.id === wantedId)) || progs[0] || null;
    let progress = null;
    if (programme) {
      try {
        progress = await api(`/v1/programmes/${enc(programme.id)}/progress`);
      } catch (error) {
        if (error.status === 401) throw error;
        view.error(`Could not load the programme's progress: ${describe(error)}`);
      }
      if (!view.current()) return;
      (progress && progress.exercises || []).forEach((e) => {
        if (!exerciseNames.has(e.exercise)) exerciseNames.set(e.exercise, e.name);
      });
    }

    const newHref = `#/programme/new?patient=${enc(name)}`;
    const actions = [link(newHref, "New programme", { class: "button secondary", id: "new-programme" })];
    if (programme) {
      actions.unshift(link(`#/programme/${enc(programme.id)}/edit`, "Edit programme", { class: "button primary", id: "edit-programme" }));
    }
    const open = sess.filter((s) => s.open);
    const subtitle = [
      plural(sess.length, "session"),
      progs.length ? plural(progs.length, "programme") : "no programme",
      open.length ? `${open.length} in progress` : null,
    ].filter(Boolean).join(" · ");

    const parts = [pageHeader(name, { back: { href: "#/patients", text: "Patients" }, subtitle, actions })];
    if (programme) {
      parts.push(programmeCard(programme, progs, name, exerciseNames));
      if (progress) parts.push(progressSection(progress, exerciseNames));
    } else {
      parts.push(card("Programme", { id: "programme" },
        el("p", { class: "empty" }, `${name} has no programme yet.`),
        el("div", { class: "actions" }, link(newHref, "Create a programme", { class: "button primary" }))));
    }
    parts.push(sessionsCard(sess, exerciseNames, programmeNames));
    view.show(...parts);
  }

  function programmeCard(programme, all, patient, exerciseNames) {
    const d = programme.definition;
    const facts = [
      ["Days per week", String(d.daysPerWeek)],
      ["Start", d.start ? formatDay(d.start) : formatTime(programme.created)],
      ["Weeks", d.weeks ? String(d.weeks) : "until replaced"],
      ["Version", `${programme.version}${programme.versions && programme.versions.length > 1 ? ` of ${programme.versions.length}` : ""}`],
      ["Saved", formatTime(programme.created)],
    ];
    const today = Array.isArray(programme.today) ? programme.today : [];
    const todayFor = (item, i) => {
      const same = today.length === d.items.length ? today[i] : today.find((t) => t.exercise === item.exercise);
      return same || item;
    };
    const rows = (d.items || []).map((item, i) => {
      const now = todayFor(item, i);
      const grown = now.repetitions !== item.repetitions;
      return el("tr", { class: "item", "data-exercise": item.exercise },
        el("th", { scope: "row" }, exerciseNames.get(item.exercise) || item.exercise,
          el("span", { class: "muted id" }, item.exercise)),
        el("td", { class: "num" }, String(item.sets)),
        el("td", { class: "num" }, String(item.repetitions)),
        el("td", { class: "num" + (grown ? " grown" : "") }, String(now.repetitions), grown ? el("span", { class: "visually-hidden" }, " (progressed)") : null),
        el("td", { class: "num" }, item.holdSeconds === null || item.holdSeconds === undefined ? "—" : `${formatNumber(item.holdSeconds)} s`),
        el("td", { class: "num" }, `${formatNumber(item.restSeconds)} s`));
    });
    let switcher = null;
    if (all.length > 1) {
      const select = el("select", { id: "programme-select" },
        all.map((p) => el("option", { value: p.id, selected: p.id === programme.id }, `${p.definition.name} (saved ${formatTime(p.created)})`)));
      select.addEventListener("change", () => {
        location.hash = `#/patient/${enc(patient)}?programme=${enc(select.value)}`;
      });
      switcher = el("div", { class: "field inline no-print" }, el("label", { for: "programme-select" }, "Show programme"), select);
    }
    return card("Programme", { id: "programme", "data-programme": programme.id },
      switcher,
      el("p", { class: "programme-title" }, d.name),
      el("dl", { class: "facts" }, facts.map(([k, v]) => el("div", null, el("dt", null, k), el("dd", null, v)))),
      d.notes ? el("p", { class: "notes" }, el("strong", null, "Notes: "), d.notes) : null,
      table(["Exercise", { text: "Sets", attrs: { class: "num" } }, { text: "Repetitions", attrs: { class: "num" } },
        { text: "Today", attrs: { class: "num", title: "Repetitions prescribed today, with the progression applied" } },
        { text: "Hold", attrs: { class: "num" } }, { text: "Rest", attrs: { class: "num" } }], rows, { id: "prescription" }),
      el("p", { class: "progression" }, progressionText(d.progression)));
  }

  function progressionText(rule) {
    if (!rule) return "No progression: the repetitions stay as prescribed.";
    const top = rule.maximumRepetitions ? `, up to ${rule.maximumRepetitions} repetitions` : "";
    return `Progression: add ${plural(rule.addRepetitions, "repetition")} per set each week while the week's average score is at least ${formatNumber(rule.minimumScore)}${top}.`;
  }

  function progressSection(progress, exerciseNames) {
    const adherence = progress.adherence || { done: 0, prescribed: 0 };
    const fraction = adherence.prescribed ? adherence.done / adherence.prescribed : 0;
    const weeks = (progress.weeks || []).map((w) => el("tr", { class: "week" },
      el("td", null, formatDay(w.start)),
      el("td", { class: "num" }, String(w.done)),
      el("td", { class: "num" }, String(w.prescribed)),
      el("td", null, bar(w.prescribed ? w.done / w.prescribed : 0, `${w.done} of ${w.prescribed}`))));

    const days = Array.isArray(progress.days) ? progress.days : [];
    const painPlot = plot({
      kind: "pain", width: 560, height: 280, yMin: 0, yMax: 10, yTicks: [0, 2, 4, 6, 8, 10],
      yLabel: "pain 0–10",
      series: [
        { name: "before", label: "Pain before", cls: "before", points: days.map((d) => ({ date: d.date, value: d.painBefore })) },
        { name: "after", label: "Pain after", cls: "after", points: days.map((d) => ({ date: d.date, value: d.painAfter })) },
      ],
      title: "Pain before and after each day",
    });

    const adherenceCard = card("Adherence", { id: "adherence-card" },
      el("p", { class: "big-number" }, el("span", { id: "adherence" }, adherenceText(adherence))),
      bar(fraction, `${Math.round(fraction * 100)} percent of prescribed sessions done`),
      el("p", { class: "muted small" }, `${progress.daysPerWeek} days per week prescribed · ${Math.round(fraction * 100)} %`),
      weeks.length
        ? table(["Week starting", { text: "Done", attrs: { class: "num" } }, { text: "Prescribed", attrs: { class: "num" } }, ""], weeks, { id: "weeks" })
        : el("p", { class: "empty" }, "No weeks yet."));

    const painCard = card("Pain", { id: "pain" },
      el("p", { class: "muted small" }, "Numeric rating scale, reported before and after each day's exercises."),
      painPlot);

    const exercises = (progress.exercises || []).map((e) => {
      const points = Array.isArray(e.points) ? e.points : [];
      const done = points.length;
      return el("section", { class: "exercise-trend", "data-exercise": e.exercise, "aria-label": e.name || e.exercise },
        el("h3", null, e.name || exerciseNames.get(e.exercise) || e.exercise, " ",
          el("span", { class: "muted small" }, `${plural(done, "session")}`)),
        el("div", { class: "plot-grid" },
          plot({
            kind: "score", exercise: e.exercise, width: 480, height: 250, yMin: 0, yMax: 100,
            yTicks: [0, 25, 50, 75, 100], yLabel: "score", unit: "",
            series: [{ name: "score", label: "Mean score", cls: "score", points: points.map((p) => ({ date: p.date, value: p.meanScore, session: p.session })) }],
            title: "Mean score per session",
          }),
          plot({
            kind: "rom", exercise: e.exercise, width: 480, height: 250, yMin: 0, yMax: "auto",
            yLabel: "degrees", unit: "°",
            series: [{ name: "rom", label: "Range of motion", cls: "rom", points: points.map((p) => ({ date: p.date, value: p.rangeOfMotion, session: p.session })) }],
            title: "Range of motion per session",
          })));
    });

    return el("div", { class: "progress", "data-programme": progress.programme },
      el("div", { class: "two-col" }, adherenceCard, painCard),
      card("Results per exercise", { id: "exercises" },
        exercises.length ? exercises : el("p", { class: "empty" }, "No sessions of this programme yet.")));
  }

  function sessionsCard(sessions, exerciseNames, programmeNames) {
    if (!sessions.length) {
      return card("Sessions", { id: "sessions" }, el("p", { class: "empty" }, "No sessions yet."));
    }
    const rows = sessions.map((s) => {
      const report = `#/session/${enc(s.id)}`;
      return el("tr", { class: "session" + (s.open ? " open" : ""), "data-session": s.id },
        el("th", { scope: "row" }, link(report, formatTime(s.created), { class: "session-link" })),
        el("td", null, exerciseNames.get(s.exercise) || s.exercise),
        el("td", { class: "num" }, String(s.repetitions)),
        el("td", { class: "num" }, s.meanScore === null || s.meanScore === undefined ? "—" : formatNumber(s.meanScore)),
        el("td", null, s.open
          ? [el("span", { class: "badge open" }, "● Open"), " ", link(`#/live/${enc(s.id)}`, "Watch live", { class: "live-link" })]
          : el("span", { class: "badge finished" }, "✓ Finished")),
        el("td", null, s.programme ? programmeNames.get(s.programme) || s.programme : el("span", { class: "muted" }, "—")),
        el("td", { class: "no-print" }, link(report, "Report", { "aria-label": `Report of the session of ${formatTime(s.created)}` })));
    });
    return card("Sessions", { id: "sessions" },
      table(["Date and time", "Exercise", { text: "Repetitions", attrs: { class: "num" } }, { text: "Mean score", attrs: { class: "num" } }, "Status", "Programme", { text: "", attrs: { class: "no-print" } }],
        rows, { id: "session-table" }));
  }

  // ---------------------------------------------------------------------------------------
  // Plots: hand-written SVG. x is the date (linear in days), y a fixed or automatic axis.

  function niceStep(raw) {
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / power;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * power;
  }

  /**
   * options: kind, exercise?, width, height, yMin, yMax (number or "auto"), yTicks?, yLabel,
   * unit?, title, series: [{ name, label, cls, points: [{ date, value, session? }] }].
   * Points whose value is null (or not a number) or whose date is not a date are skipped.
   */
  function plot(options) {
    const W = options.width, H = options.height;
    const margin = { left: 58, right: 18, top: options.series.length > 1 ? 34 : 16, bottom: 40 };
    const series = options.series.map((s) => {
      const pts = s.points
        .map((p, i) => ({ ...p, day: dayNumber(p.date), order: i }))
        .filter((p) => typeof p.value === "number" && isFinite(p.value) && isFinite(p.day));
      pts.sort((a, b) => a.day - b.day || a.order - b.order);
      // several points on one day share it, spread a little within the day
      const perDay = new Map();
      for (const p of pts) perDay.set(p.day, (perDay.get(p.day) || 0) + 1);
      const seen = new Map();
      for (const p of pts) {
        const n = perDay.get(p.day), k = seen.get(p.day) || 0;
        seen.set(p.day, k + 1);
        p.x = p.day + (n > 1 ? (k / (n - 1) - 0.5) * 0.5 : 0);
      }
      return { ...s, pts };
    });
    const all = series.flatMap((s) => s.pts);
    const count = all.length;

    let yMax = options.yMax, yTicks = options.yTicks;
    if (yMax === "auto") {
      const top = all.reduce((m, p) => Math.max(m, p.value), 0);
      const step = niceStep(top > 0 ? top / 4 : 2.5);
      yMax = Math.max(step, Math.ceil(top / step) * step);
      yTicks = [];
      for (let v = 0; v <= yMax + step / 2; v += step) yTicks.push(Number(v.toFixed(6)));
    }
    const yMin = options.yMin;

    const root = svg("svg", {
      class: `plot plot-${options.kind}`, "data-plot": options.kind, "data-points": count,
      "data-exercise": options.exercise || null, viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": `${options.title}: ${plural(count, "point")}`, preserveAspectRatio: "xMidYMid meet",
      style: `max-width:${Math.round(W * 1.35)}px`,
    }, svg("title", null, options.title));

    const x0 = margin.left, x1 = W - margin.right, y0 = H - margin.bottom, y1 = margin.top;
    const days = all.map((p) => p.x);
    let dMin = days.length ? Math.min(...days) : 0, dMax = days.length ? Math.max(...days) : 1;
    dMin -= 0.5; dMax += 0.5; // half a day of room on each side
    const X = (d) => x0 + ((d - dMin) / (dMax - dMin)) * (x1 - x0);
    const clampY = (v) => Math.max(yMin, Math.min(yMax, v));
    const Y = (v) => y0 - ((clampY(v) - yMin) / (yMax - yMin)) * (y0 - y1);

    // grid and y ticks
    const grid = svg("g", { class: "grid" });
    const axis = svg("g", { class: "axis" });
    for (const t of yTicks) {
      const y = Y(t);
      grid.append(svg("line", { x1: x0, x2: x1, y1: y, y2: y }));
      axis.append(svg("text", { x: x0 - 8, y: y + 4, "text-anchor": "end", class: "tick" }, formatNumber(t)));
    }
    axis.append(svg("line", { class: "axis-line", x1: x0, x2: x0, y1: y1, y2: y0 }));
    axis.append(svg("line", { class: "axis-line", x1: x0, x2: x1, y1: y0, y2: y0 }));
    axis.append(svg("text", {
      class: "axis-label", transform: `translate(14 ${(y0 + y1) / 2}) rotate(-90)`, "text-anchor": "middle",
    }, options.yLabel));

    // x ticks: the distinct dates, thinned so that labels do not collide
    const distinct = [...new Set(all.map((p) => p.day))].sort((a, b) => a - b);
    let lastX = -Infinity;
    const tickDays = [];
    for (const d of distinct) {
      const x = X(d);
      if (x - lastX >= 62) {
        tickDays.push(d);
        lastX = x;
      }
    }
    for (const d of tickDays) {
      const x = X(d);
      axis.append(svg("line", { class: "tick-mark", x1: x, x2: x, y1: y0, y2: y0 + 5 }));
      axis.append(svg("text", { x, y: y0 + 20, "text-anchor": "middle", class: "tick" },
        shortDayFormat.format(new Date(d * 86400000))));
    }
    root.append(grid, axis);

    if (!count) {
      root.append(svg("text", { x: (x0 + x1) / 2, y: (y0 + y1) / 2, "text-anchor": "middle", class: "no-data" }, "No data yet"));
      return figure(options, root);
    }

    for (const s of series) {
      const g = svg("g", { class: `series series-${s.cls}`, "data-series": s.name });
      if (s.pts.length > 1) {
        g.append(svg("polyline", {
          class: "line", fill: "none",
          points: s.pts.map((p) => `${X(p.x).toFixed(1)},${Y(p.value).toFixed(1)}`).join(" "),
        }));
      }
      for (const p of s.pts) {
        const unit = options.unit || "";
        const label = `${formatDay(p.date)} — ${s.label.toLowerCase()}: ${formatNumber(p.value)}${unit}`;
        g.append(svg("circle", {
          class: "point", cx: X(p.x).toFixed(1), cy: Y(p.value).toFixed(1), r: 5,
          "data-series": options.series.length > 1 ? s.name : null,
          "data-value": p.value, "data-date": p.date, "data-session": p.session || null,
        }, svg("title", null, label)));
      }
      root.append(g);
    }

    if (options.series.length > 1) {
      const legend = svg("g", { class: "legend", transform: `translate(${x0} 14)` });
      let lx = 0;
      for (const s of series) {
        legend.append(svg("g", { class: `series series-${s.cls}` },
          svg("line", { class: "line", x1: lx, x2: lx + 28, y1: 0, y2: 0 }),
          svg("circle", { class: "legend-marker", cx: lx + 14, cy: 0, r: 5 }),
          svg("text", { x: lx + 36, y: 4, class: "legend-text" }, s.label)));
        lx += 36 + s.label.length * 7.5 + 24;
      }
      root.append(legend);
    }
    return figure(options, root);
  }

  function figure(options, root) {
    return el("figure", { class: "plot-figure" },
      el("figcaption", null, options.title), root);
  }

  // ---------------------------------------------------------------------------------------
  // #/session/ID

  async function pageSession(view, id) {
    view.show(pageHeader("Session report", { back: { href: "#/patients", text: "Patients" } }), loading("Loading the report…"));
    const [session, report, exercises] = await Promise.allSettled([
      api(`/v1/sessions/${enc(id)}`),
      api(`/v1/sessions/${enc(id)}/report?format=html`, { text: true }),
      api("/v1/exercises"),
    ]);
    if (!view.current()) return;
    const s = session.status === "fulfilled" ? session.value : null;
    const library = exercises.status === "fulfilled" && Array.isArray(exercises.value) ? exercises.value : [];
    const exercise = s ? (library.find((e) => e.id === s.exercise) || {}).name || s.exercise : "";
    if (session.status === "rejected" && report.status === "fulfilled") {
      settledValue(session, "the session", view, null);
    }
    const back = s ? { href: `#/patient/${enc(s.patient)}`, text: s.patient } : { href: "#/patients", text: "Patients" };
    const subtitle = s ? `${s.patient} · ${exercise} · ${formatTime(s.created)}${s.open ? " · in progress" : ""}` : id;
    if (report.status === "rejected") {
      if (report.reason instanceof ApiError && report.reason.status === 401) throw report.reason;
      view.show(pageHeader("Session report", { back, subtitle }),
        card(null, null, el("p", { class: "empty" }, "The report could not be loaded.")));
      view.error(`Could not load the report: ${describe(report.reason)}`);
      return;
    }
    const frame = el("iframe", {
      id: "report", sandbox: "allow-same-origin allow-modals", title: "Session report", class: "report-frame",
    });
    frame.srcdoc = report.value;
    frame.addEventListener("load", () => {
      try {
        const doc = frame.contentDocument;
        if (doc && doc.documentElement) {
          const height = Math.ceil(doc.documentElement.getBoundingClientRect().height);
          frame.style.height = Math.max(400, height + 32) + "px";
        }
      } catch (e) {
        /* cross-origin: keep the default height */
      }
    });
    const print = button("Print / save as PDF", () => {
      try {
        frame.contentWindow.focus();
        frame.contentWindow.print();
      } catch (error) {
        showError(`Could not print the report: ${describe(error)}`);
      }
    }, { class: "button primary", id: "print-report" });
    const actions = [print];
    if (s && s.open) actions.push(link(`#/live/${enc(s.id)}`, "Watch live", { class: "button secondary" }));
    view.show(pageHeader("Session report", { back, subtitle, actions }), el("div", { class: "report-wrap" }, frame));
  }

  // ---------------------------------------------------------------------------------------
  // #/live/ID

  /** Joint names and parents from a BVH HIERARCHY (End Sites are not joints). */
  function bvhHierarchy(text) {
    const joints = [], parents = [], stack = [];
    let pending = null;
    for (const raw of String(text || "").split(/\r?\n/)) {
      const line = raw.trim();
      if (/^MOTION\b/.test(line)) break;
      let m;
      if ((m = /^(ROOT|JOINT)\s+(.+)$/.exec(line))) {
        pending = { name: m[2].trim(), joint: true };
      } else if (/^End\s+Site/i.test(line)) {
        pending = { joint: false };
      } else if (line.startsWith("{")) {
        if (pending && pending.joint) {
          const parent = [...stack].reverse().find((i) => i >= 0);
          joints.push(pending.name);
          parents.push(parent === undefined ? -1 : parent);
          stack.push(joints.length - 1);
        } else stack.push(-1);
        pending = null;
      } else if (line.startsWith("}")) stack.pop();
    }
    return { joints, parents };
  }

  async function pageLive(view, id) {
    const token = getToken();
    const status = el("p", { id: "live-status", class: "live-status", role: "status" }, "Connecting…");
    const figureGroup = svg("g", { class: "figure" });
    const ground = svg("line", { class: "ground", x1: -10, x2: 10, y1: 0, y2: 0 });
    const stage = svg("svg", {
      id: "live", class: "live-figure", "data-frames": 0, viewBox: "-1 -2 2 2.2",
      preserveAspectRatio: "xMidYMid meet", role: "img", "aria-label": "Live stick figure of the patient",
    }, ground, figureGroup);
    const sideView = el("input", { type: "checkbox", id: "side-view" });
    const seqOut = el("dd", { id: "live-seq" }, "—");
    const repsOut = el("dd", { id: "live-reps" }, "0");
    const progressFill = el("span", { class: "bar-fill", style: "width:0%" });
    const progressText = el("span", { id: "live-progress" }, "0 %");
    const errorsList = el("ol", { id: "live-errors", class: "errors-list" });
    const lastRep = el("div", { id: "live-last-rep", class: "last-rep" }, el("p", { class: "muted" }, "No repetition yet."));
    const repHistory = el("ol", { id: "live-reps-list", class: "rep-history", reversed: true });
    const subtitle = el("p", { class: "subtitle", id: "live-subtitle" }, `Session ${id}`);
    const backLink = link("#/patients", "← Patients", { id: "back" });
    const reportLink = link(`#/session/${enc(id)}`, "Open report", { class: "button secondary", id: "live-report" });
    const reconnect = button("Reconnect", () => route(), { id: "live-reconnect", hidden: true });

    view.show(
      el("div", { class: "page-header" },
        el("p", { class: "breadcrumb" }, backLink),
        el("div", { class: "page-title-row" },
          el("div", null, el("h1", null, "Live session"), subtitle),
          el("div", { class: "actions" }, reconnect, reportLink))),
      status,
      el("div", { class: "live-layout" },
        el("section", { class: "card live-stage", "aria-label": "Figure" },
          el("div", { class: "live-toolbar" },
            el("label", { class: "checkbox", for: "side-view" }, sideView, " Side view (z across)"),
            el("span", { class: "muted small legend-text" },
              el("span", { class: "swatch left" }), "left side ", el("span", { class: "swatch right" }), "right side")),
          stage),
        el("section", { class: "card live-panel", "aria-label": "Measurements" },
          el("dl", { class: "live-stats" },
            el("div", null, el("dt", null, "Repetitions"), repsOut),
            el("div", null, el("dt", null, "Frame"), seqOut),
            el("div", { class: "wide" }, el("dt", null, "Progress through the repetition"),
              el("dd", null, el("span", { class: "bar" }, progressFill), " ", progressText))),
          el("h2", null, "Current errors"),
          el("p", { class: "muted small" }, "Largest first. ▲ marks an error over its tolerance (severity ≥ 1)."),
          errorsList,
          el("h2", null, "Last repetition"),
          lastRep,
          repHistory))
    );

    let joints = null, parents = null, lines = [], head = null;
    let frames = 0, bounds = null, finished = false, closedByUs = false, lastPositions = null;

    function setStatus(text, kind) {
      status.textContent = text;
      status.className = "live-status" + (kind ? " " + kind : "");
    }

    function buildFigure() {
      figureGroup.replaceChildren();
      lines = [];
      head = null;
      if (!joints) return;
      joints.forEach((name, j) => {
        const p = parents[j];
        if (typeof p !== "number" || p < 0 || p >= joints.length) {
          lines.push(null);
          return;
        }
        const side = /left|^l[A-Z_]|^l_/i.test(name) && !/^lower/i.test(name) ? "left"
          : /right|^r[A-Z_]|^r_/i.test(name) ? "right" : "centre";
        const line = svg("line", { class: `bone ${side}`, "data-joint": name, "vector-effect": "non-scaling-stroke" });
        lines.push(line);
        figureGroup.append(line);
      });
      const headIndex = joints.findIndex((n) => /^head$/i.test(n)) >= 0
        ? joints.findIndex((n) => /^head$/i.test(n)) : joints.findIndex((n) => /head/i.test(n) && !/end/i.test(n));
      if (headIndex >= 0) {
        head = { index: headIndex, node: svg("circle", { class: "head", r: 0.09, "vector-effect": "non-scaling-stroke" }) };
        figureGroup.append(head.node);
      }
    }

    function project(P, j) {
      const x = P[3 * j], y = P[3 * j + 1], z = P[3 * j + 2];
      return [sideView.checked ? z : x, -y];
    }

    function fit(P) {
      let minU = Infinity, maxU = -Infinity, minV = Infinity, maxV = -Infinity;
      for (let j = 0; j < joints.length; j++) {
        const [u, v] = project(P, j);
        if (!isFinite(u) || !isFinite(v)) continue;
        minU = Math.min(minU, u); maxU = Math.max(maxU, u);
        minV = Math.min(minV, v); maxV = Math.max(maxV, v);
      }
      if (head) minV -= 0.1; // the head circle sits above the head joint
      if (!isFinite(minU)) return;
      let grew = false;
      if (!bounds) {
        bounds = { minU, maxU, minV, maxV };
        grew = true;
      } else {
        if (minU < bounds.minU) { bounds.minU = minU; grew = true; }
        if (maxU > bounds.maxU) { bounds.maxU = maxU; grew = true; }
        if (minV < bounds.minV) { bounds.minV = minV; grew = true; }
        if (maxV > bounds.maxV) { bounds.maxV = maxV; grew = true; }
      }
      if (grew) {
        const w = bounds.maxU - bounds.minU, h = bounds.maxV - bounds.minV;
        const pad = 0.12 * Math.max(w, h, 0.5) + 0.05;
        const vx = bounds.minU - pad, vy = bounds.minV - pad, vw = w + 2 * pad, vh = h + 2 * pad;
        stage.setAttribute("viewBox", `${vx.toFixed(3)} ${vy.toFixed(3)} ${vw.toFixed(3)} ${vh.toFixed(3)}`);
        // the floor: the lowest point seen
        ground.setAttribute("x1", (vx - vw).toFixed(3));
        ground.setAttribute("x2", (vx + 2 * vw).toFixed(3));
        ground.setAttribute("y1", bounds.maxV.toFixed(3));
        ground.setAttribute("y2", bounds.maxV.toFixed(3));
      }
    }

    function drawFigure(P) {
      if (!joints || !Array.isArray(P) || P.length < 3 * joints.length) return false;
      fit(P);
      for (let j = 0; j < joints.length; j++) {
        const line = lines[j];
        if (!line) continue;
        const [u1, v1] = project(P, j), [u2, v2] = project(P, parents[j]);
        line.setAttribute("x1", u1.toFixed(4)); line.setAttribute("y1", v1.toFixed(4));
        line.setAttribute("x2", u2.toFixed(4)); line.setAttribute("y2", v2.toFixed(4));
      }
      if (head) {
        const [u, v] = project(P, head.index);
        head.node.setAttribute("cx", u.toFixed(4));
        head.node.setAttribute("cy", (v - 0.06).toFixed(4));
      }
      return true;
    }

    sideView.addEventListener("change", () => {
      bounds = null;
      if (lastPositions) drawFigure(lastPositions);
    });

    function showErrors(errors, severity) {
      const names = Object.keys(errors || {});
      names.sort((a, b) => ((severity && severity[b]) || 0) - ((severity && severity[a]) || 0) || a.localeCompare(b));
      errorsList.replaceChildren(...names.map((name) => {
        const sev = severity && typeof severity[name] === "number" ? severity[name] : null;
        const over = sev !== null && sev >= 1;
        return el("li", { class: "error-item" + (over ? " over" : ""), "data-measure": name, "data-severity": sev === null ? null : sev },
          el("span", { class: "marker", "aria-hidden": "true" }, over ? "▲" : "○"),
          el("span", { class: "error-name" }, humanize(name)),
          el("span", { class: "error-degrees" }, `${formatNumber(errors[name])}°`),
          el("span", { class: "error-severity" }, sev === null ? "" : `severity ${formatNumber(sev)}${over ? " — over tolerance" : ""}`));
      }));
      if (!names.length) errorsList.append(el("li", { class: "muted none" }, "None"));
    }

    function cueText(cue) {
      if (typeof cue === "string") return cue;
      if (cue && typeof cue.text === "string") return cue.text;
      return "";
    }

    function showRepetition(result) {
      if (!result) return;
      const cues = (Array.isArray(result.cues) ? result.cues : []).map(cueText).filter(Boolean);
      const score = typeof result.score === "number" ? formatNumber(result.score, 0) : "—";
      lastRep.replaceChildren(
        el("p", { class: "rep-score" }, el("span", { class: "big-number", id: "live-score" }, score),
          el("span", { class: "muted" }, ` score · repetition ${result.index !== undefined ? result.index : "?"}`)),
        el("p", { class: "rep-cue", id: "live-cue" }, cues.length ? cues[0] : "No correction needed."));
      repHistory.prepend(el("li", null, `Repetition ${result.index !== undefined ? result.index : "?"}: ${score}${cues.length ? " — " + cues[0] : ""}`));
      while (repHistory.children.length > 8) repHistory.lastElementChild.remove();
    }

    function onMessage(message) {
      switch (message.type) {
        case "session": {
          if (Array.isArray(message.joints) && Array.isArray(message.parents)) {
            joints = message.joints;
            parents = message.parents;
          } else {
            const h = bvhHierarchy(message.skeleton);
            joints = h.joints;
            parents = h.parents;
          }
          bounds = null;
          buildFigure();
          subtitle.textContent = `${message.patient || "?"} · ${message.exercise || "?"}${message.exerciseVersion ? ` v${message.exerciseVersion}` : ""} · session ${message.session || id}`;
          exerciseId = message.exercise || null;
          nameExercise();
          if (message.patient) {
            backLink.setAttribute("href", `#/patient/${enc(message.patient)}`);
            backLink.textContent = `← ${message.patient}`;
          }
          repsOut.textContent = String(message.repetitions || 0);
          if (typeof message.lastSeq === "number" && message.lastSeq >= 0) seqOut.textContent = String(message.lastSeq);
          setStatus("Connected — watching live.", "ok");
          break;
        }
        case "frame": {
          if (Array.isArray(message.positions)) lastPositions = message.positions;
          drawFigure(message.positions);
          frames += 1;
          stage.setAttribute("data-frames", frames);
          seqOut.textContent = String(message.seq);
          repsOut.textContent = String(message.repetitions);
          const p = Math.max(0, Math.min(1, Number(message.progress) || 0));
          progressFill.style.width = `${(p * 100).toFixed(0)}%`;
          progressText.textContent = `${Math.round(p * 100)} %`;
          showErrors(message.errors, message.severity);
          break;
        }
        case "repetition":
          showRepetition(message.result);
          break;
        case "finished":
          finished = true;
          setStatus("Session finished.", "done");
          reportLink.classList.replace("secondary", "primary");
          break;
        case "notice":
          setStatus(`Notice: ${message.message || message.code || "from the server"}`, "warn");
          break;
        case "rejected":
          setStatus(`A frame was rejected: ${message.message || message.reason || ""}`, "warn");
          break;
        default:
          break; // ack and future messages
      }
    }

    // the exercise's name for the subtitle (the hello names only its id)
    const names = api("/v1/exercises").catch(() => []);
    let exerciseId = null;
    const nameExercise = () => names.then((list) => {
      const found = exerciseId && Array.isArray(list) && list.find((e) => e.id === exerciseId);
      if (found && found.name && view.current()) {
        subtitle.textContent = subtitle.textContent.replace(exerciseId, found.name);
      }
    });

    let socket;
    try {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      socket = new WebSocket(`${scheme}//${location.host}/v1/sessions/${enc(id)}/watch?token=${enc(token)}&positions=1`);
    } catch (error) {
      setStatus(`Could not open the connection: ${describe(error)}`, "error");
      showError(`Could not open the live connection: ${describe(error)}`);
      reconnect.hidden = false;
      return;
    }
    view.onLeave(() => {
      closedByUs = true;
      socket.close(1000, "left the page");
    });
    socket.addEventListener("open", () => setStatus("Connected — waiting for the session…", "ok"));
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (e) {
        return; // not JSON (a binary frame): not for us
      }
      if (message && typeof message === "object") onMessage(message);
    });
    socket.addEventListener("error", () => {
      if (closedByUs || finished) return;
      const text = "Connection error: the live view could not connect or lost the connection. The session may be finished, or the token may not allow watching it.";
      setStatus(text, "error");
      if (view.current()) showError(text);
      reconnect.hidden = false;
    });
    socket.addEventListener("close", (event) => {
      if (closedByUs) return;
      if (finished) {
        setStatus("Session finished.", "done");
        return;
      }
      setStatus(`Connection closed (code ${event.code}${event.reason ? `: ${event.reason}` : ""}).`, "error");
      reconnect.hidden = false;
    });
  }

  // ---------------------------------------------------------------------------------------
  // #/programme/new?patient=NAME and #/programme/ID/edit

  async function pageProgrammeForm(view, id, query) {
    const editing = Boolean(id);
    const title = editing ? "Edit programme" : "New programme";
    view.show(pageHeader(title, { back: { href: "#/patients", text: "Patients" } }), loading());
    const [tokens, exercises, existing] = await Promise.all([
      tokenList(),
      api("/v1/exercises"),
      editing ? api(`/v1/programmes/${enc(id)}`) : Promise.resolve(null),
    ]);
    if (!view.current()) return;
    const patients = patientNames(tokens);
    const library = (Array.isArray(exercises) ? exercises : []).slice().sort((a, b) => String(a.name).localeCompare(String(b.name)));
    const d = existing ? existing.definition : {
      name: "", patient: query.get("patient") || "", daysPerWeek: 3, start: todayText(), weeks: 4, notes: "",
      items: [], progression: null,
    };
    if (d.patient && !patients.includes(d.patient)) patients.push(d.patient);

    const uid = (() => { let n = 0; return (p) => `${p}-${++n}`; })();

    function field(labelText, input, hint) {
      const hintId = hint ? uid("hint") : null;
      if (hintId) input.setAttribute("aria-describedby", hintId);
      return el("div", { class: "field" },
        el("label", { for: input.id }, labelText),
        input,
        hint ? el("p", { class: "hint", id: hintId }, hint) : null);
    }

    const nameInput = el("input", { id: "prog-name", name: "name", type: "text", required: true, maxlength: 120, value: d.name || "" });
    const patientSelect = el("select", { id: "prog-patient", name: "patient", required: true },
      el("option", { value: "", disabled: true, selected: !d.patient }, "Choose a patient…"),
      patients.map((n) => el("option", { value: n, selected: n === d.patient }, n)));
    const daysInput = el("input", { id: "prog-days", name: "daysPerWeek", type: "number", min: 1, max: 7, step: 1, required: true, value: d.daysPerWeek || 3 });
    const startInput = el("input", { id: "prog-start", name: "start", type: "date", required: true, value: d.start || todayText() });
    const weeksInput = el("input", { id: "prog-weeks", name: "weeks", type: "number", min: 1, max: 104, step: 1, value: d.weeks || "" });
    const notesInput = el("textarea", { id: "prog-notes", name: "notes", rows: 3, maxlength: 2000 });
    notesInput.value = d.notes || "";

    const itemsBox = el("div", { id: "prog-items", class: "items" });

    function itemRow(item) {
      const row = el("fieldset", { class: "item-row" });
      const legend = el("legend", null, "Exercise");
      const exercise = el("select", { id: uid("item-exercise"), name: "exercise", required: true },
        library.map((e) => el("option", { value: e.id, selected: item && item.exercise === e.id }, e.name || e.id)));
      if (item && item.exercise && !library.some((e) => e.id === item.exercise)) {
        exercise.append(el("option", { value: item.exercise, selected: true }, `${item.exercise} (not in the library)`));
      }
      const num = (name, value, min, max, step, required) => el("input", {
        id: uid("item-" + name), name, type: "number", min, max, step, required, value: value === null || value === undefined ? "" : value,
      });
      const sets = num("sets", item ? item.sets : 2, 1, 20, 1, true);
      const reps = num("repetitions", item ? item.repetitions : 8, 1, 100, 1, true);
      const hold = num("holdSeconds", item ? item.holdSeconds : "", 0, 300, "any", false);
      const rest = num("restSeconds", item ? item.restSeconds : 30, 0, 900, "any", true);
      const remove = button("Remove", () => {
        row.remove();
        renumber();
      }, { class: "button secondary small remove-item" });
      row.append(legend, el("div", { class: "item-grid" },
        el("div", { class: "field exercise-field" }, el("label", { for: exercise.id }, "Exercise"), exercise),
        el("div", { class: "field" }, el("label", { for: sets.id }, "Sets"), sets),
        el("div", { class: "field" }, el("label", { for: reps.id }, "Repetitions"), reps),
        el("div", { class: "field" }, el("label", { for: hold.id }, "Hold (seconds)"), hold),
        el("div", { class: "field" }, el("label", { for: rest.id }, "Rest (seconds)"), rest),
        el("div", { class: "field remove-field" }, remove)));
      return row;
    }

    function renumber() {
      const rows = [...itemsBox.querySelectorAll(".item-row")];
      rows.forEach((row, i) => {
        row.querySelector("legend").textContent = `Exercise ${i + 1}`;
        const remove = row.querySelector(".remove-item");
        remove.setAttribute("aria-label", `Remove exercise ${i + 1}`);
        remove.disabled = rows.length === 1;
      });
    }

    (d.items && d.items.length ? d.items : [null]).forEach((item) => itemsBox.append(itemRow(item)));
    renumber();
    const addItem = button("+ Add exercise", () => {
      const row = itemRow(null);
      itemsBox.append(row);
      renumber();
      row.querySelector("select").focus();
    }, { id: "add-item" });
    if (!library.length) view.error("The exercise library is empty: add exercises before prescribing them.");

    const rule = d.progression;
    const progressionToggle = el("input", { type: "checkbox", id: "prog-progression", checked: Boolean(rule) });
    const addInput = el("input", { id: "prog-add", type: "number", min: 0, max: 20, step: 1, value: rule ? rule.addRepetitions : 2 });
    const scoreInput = el("input", { id: "prog-min-score", type: "number", min: 0, max: 100, step: "any", value: rule ? rule.minimumScore : 80 });
    const maxInput = el("input", { id: "prog-max-reps", type: "number", min: 1, max: 100, step: 1, value: rule && rule.maximumRepetitions ? rule.maximumRepetitions : "" });
    const ruleFields = el("div", { class: "rule-fields", id: "prog-rule" },
      field("Add repetitions each week", addInput),
      field("While the average score is at least", scoreInput, "Score 0–100, the previous week's average"),
      field("Up to a maximum of repetitions", maxInput, "Optional"));
    const syncRule = () => {
      for (const input of [addInput, scoreInput, maxInput]) input.disabled = !progressionToggle.checked;
      ruleFields.classList.toggle("disabled", !progressionToggle.checked);
    };
    progressionToggle.addEventListener("change", syncRule);
    syncRule();

    const formError = el("div", { id: "form-error", class: "banner banner-error", role: "alert", hidden: true });
    const save = el("button", { type: "submit", class: "button primary", id: "save-programme" }, editing ? "Save new version" : "Create programme");
    const cancelHref = d.patient ? `#/patient/${enc(d.patient)}` : "#/patients";

    const form = el("form", { id: "programme-form", class: "card form", novalidate: true },
      el("div", { class: "form-grid" },
        el("div", { class: "span-2" }, field("Programme name", nameInput)),
        field("Patient", patientSelect),
        field("Days per week", daysInput, "1 to 7"),
        field("Start date", startInput),
        field("Weeks", weeksInput, "Optional; empty: until replaced"),
        el("div", { class: "span-2" }, field("Notes for the patient", notesInput, "Optional"))),
      el("h2", null, "Exercises"),
      itemsBox,
      el("div", { class: "actions" }, addItem),
      el("h2", null, "Progression"),
      el("label", { class: "checkbox", for: "prog-progression" }, progressionToggle, " Increase the repetitions week by week"),
      ruleFields,
      formError,
      el("div", { class: "form-actions" }, save, link(cancelHref, "Cancel", { class: "button secondary", id: "cancel" })));

    function fail(message, input) {
      formError.replaceChildren(el("p", null, message));
      formError.hidden = false;
      if (input) input.focus();
      else formError.scrollIntoView({ block: "center" });
    }

    function numberOf(input) {
      return input.value.trim() === "" ? null : Number(input.value);
    }

    function collect() {
      for (const input of form.querySelectorAll("input, select, textarea")) {
        if (!input.disabled && !input.checkValidity()) {
          const label = form.querySelector(`label[for="${input.id}"]`);
          const within = input.closest(".item-row");
          const prefix = within ? within.querySelector("legend").textContent + ", " : "";
          fail(`${prefix}${label ? label.textContent : input.name}: ${input.validationMessage}`, input);
          return null;
        }
      }
      const definition = {
        name: nameInput.value.trim(),
        patient: patientSelect.value,
        daysPerWeek: numberOf(daysInput),
        start: startInput.value,
        items: [...itemsBox.querySelectorAll(".item-row")].map((row) => {
          const get = (name) => row.querySelector(`[name="${name}"]`);
          const item = {
            exercise: get("exercise").value,
            sets: numberOf(get("sets")),
            repetitions: numberOf(get("repetitions")),
            restSeconds: numberOf(get("restSeconds")),
          };
          const hold = numberOf(get("holdSeconds"));
          if (hold !== null) item.holdSeconds = hold;
          return item;
        }),
      };
      const weeks = numberOf(weeksInput);
      if (weeks !== null) definition.weeks = weeks;
      const notes = notesInput.value.trim();
      if (notes) definition.notes = notes;
      if (progressionToggle.checked) {
        definition.progression = { addRepetitions: numberOf(addInput) || 0, minimumScore: numberOf(scoreInput) || 0 };
        const top = numberOf(maxInput);
        if (top !== null) definition.progression.maximumRepetitions = top;
      }
      if (!definition.items.length) {
        fail("Add at least one exercise.", addItem);
        return null;
      }
      return definition;
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      formError.hidden = true;
      clearError();
      const definition = collect();
      if (!definition) return;
      save.disabled = true;
      save.textContent = "Saving…";
      try {
        const saved = editing
          ? await api(`/v1/programmes/${enc(id)}`, { method: "PUT", body: definition })
          : await api("/v1/programmes", { method: "POST", body: definition });
        const patient = (saved && saved.definition && saved.definition.patient) || definition.patient;
        location.hash = `#/patient/${enc(patient)}`;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return;
        fail(`The programme was not saved: ${describe(error)}`);
      } finally {
        save.disabled = false;
        save.textContent = editing ? "Save new version" : "Create programme";
      }
    });

    const subtitle = editing
      ? `${d.name} · version ${existing.version}; saving makes version ${Math.max(...(existing.versions || [existing.version])) + 1}`
      : "Prescribe exercises for a patient";
    view.show(pageHeader(title, { back: { href: cancelHref, text: d.patient || "Patients" }, subtitle }), form);
  }

  // ---------------------------------------------------------------------------------------
  // Start

  takeFragmentToken();
  if (!location.hash || location.hash === "#") history.replaceState(null, "", "#/patients");
  route();
})();
