// The status page's script, part 1 of 4: the embedded data and helpers that build DOM nodes.
// render/html.py joins the four parts, in order, into one function with one shared scope.
// Text from GitHub reaches the DOM only through textContent and attribute setters (never
// innerHTML), and a link is made only from an https URL or from a configured repo name.

const data = JSON.parse(document.getElementById("page-data").textContent);
const revisions = data.revisions;
const repos = data.repos; // [owner/name, label, Actions URL or null, 1 when stale]
const byShort = new Map(revisions.map((revision, index) => [revision.short, index]));
const FILTERS = ["all", "passing", "failing"];
const VIEWS = ["list", "grid", "repos"];
// Cell codes in the order a revision's repos are listed in its details: attention first, as
// page_model.py ATTENTION_ORDER; regressions lead among the failing.
const ATTENTION = "fruipn";
// Positions in a run entry, in the order of page_data.py RUN_FIELDS; the texts are indexes
// into data.strings, and a run URL of STANDARD_RUN_URL means the run's page on github.com.
const STANDARD_RUN_URL = 0;
const RUN = {
  repo: 0, workflow: 1, word: 2, state: 3, seconds: 4, runId: 5, runUrl: 6, headSha: 7,
  branch: 8, event: 9, attempt: 10, counted: 11, age: 12,
};
const stringAt = (index) => (index === null ? null : data.strings[index]);
const state = { filter: "all", view: "list", open: new Set() };
let gridBuilt = false;

// DOM helpers

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function link(url, text, title) {
  const safe = typeof url === "string" && url.startsWith("https://");
  const node = element(safe ? "a" : "span", "", text);
  if (safe) node.href = url;
  if (title) node.title = title;
  return node;
}

function mark(code, label) {
  const [name, word, symbol] = data.states[code];
  const node = element("span", "mark m-" + name, symbol);
  node.setAttribute("role", "img");
  node.setAttribute("aria-label", label || word);
  return node;
}

function repoLink(index) {
  const [name, label, actionsUrl] = repos[index];
  return link(actionsUrl, label, name + ": GitHub Actions");
}

function gotoLink(short) {
  const node = element("a", "sha", short);
  node.href = "#rev-" + short;
  node.dataset.goto = short;
  return node;
}

// Times and durations, formatted as render/text.py formats them

function age(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  if (whole < 60) return whole + "s ago";
  if (whole < 3600) return Math.floor(whole / 60) + "m ago";
  if (whole < 86400) return Math.floor(whole / 3600) + "h ago";
  return Math.floor(whole / 86400) + "d ago";
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const whole = Math.floor(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = whole % 60;
  if (hours) return hours + "h " + String(minutes).padStart(2, "0") + "m";
  if (minutes) return minutes + "m " + String(secs).padStart(2, "0") + "s";
  return secs + "s";
}

function timeElement(epochSeconds) {
  const instant = new Date(epochSeconds * 1000);
  const node = element("time", "", age(Date.now() / 1000 - epochSeconds));
  node.dateTime = instant.toISOString();
  node.title = instant.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  node.dataset.rel = "";
  return node;
}

function refreshTimes() {
  const now = Date.now();
  for (const node of document.querySelectorAll("time[data-rel]")) {
    const at = Date.parse(node.dateTime);
    if (!Number.isNaN(at)) node.textContent = age((now - at) / 1000);
  }
  const hours = (now / 1000 - data.generatedAt) / 3600;
  const notice = document.getElementById("page-age");
  if (hours > data.staleAfterHours && !notice.firstChild) {
    const symbol = element("span", "mark m-stale", data.states.s[2]);
    symbol.setAttribute("aria-hidden", "true");
    notice.append(
      symbol,
      element("strong", "", "Old data:"),
      " this page was generated " + age(now / 1000 - data.generatedAt) +
        ", more than " + data.staleAfterHours + " hours ago, so its refresh may have stopped.",
    );
  }
  notice.hidden = !(hours > data.staleAfterHours);
}
