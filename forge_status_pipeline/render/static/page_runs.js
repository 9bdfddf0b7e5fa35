// The status page's script, part 2 of 4: a revision's run details, built when first opened.

function repoCell(rev, repoIndex, first) {
  const td = element("td", "repo");
  td.dataset.label = "Repo";
  td.append(repoLink(repoIndex));
  if (!first || rev.cells[repoIndex] !== "f") return td;
  if (rev.regressions.includes(repoIndex)) td.append(" ", element("span", "tag reg", "regression"));
  const last = rev.lastPassing.find((pair) => pair[0] === repoIndex);
  const note = element("span", "note muted");
  if (last) note.append("last passed at ", gotoLink(revisions[last[1]].short));
  else note.append("no passing build in this history");
  td.append(note);
  return td;
}

function dataCell(label, content, className) {
  const td = element("td", className || "");
  td.dataset.label = label;
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  return td;
}

function runRow(rev, repoIndex, run, first) {
  const row = element("tr", "s-" + data.states[run[RUN.state]][0]);
  if (!run[RUN.counted]) row.classList.add("uncounted");
  row.dataset.repo = repoIndex;

  const status = element("span");
  status.append(mark(run[RUN.state], ""), " ", stringAt(run[RUN.word]));
  const trigger = element("span", "", stringAt(run[RUN.event]));
  if (run[RUN.branch] !== null) trigger.append(" on ", element("code", "", stringAt(run[RUN.branch])));
  if (!run[RUN.counted]) trigger.append(element("span", "note", "does not decide this repo's state"));

  let runText = String(run[RUN.runId]);
  if (run[RUN.attempt] > 1) runText += " (attempt " + run[RUN.attempt] + ")";

  const headSha = run[RUN.headSha];
  const commit = headSha
    ? link("https://github.com/" + repos[repoIndex][0] + "/commit/" + headSha, headSha.slice(0, 7))
    : "–";
  const runUrl = run[RUN.runUrl] === STANDARD_RUN_URL
    ? "https://github.com/" + repos[repoIndex][0] + "/actions/runs/" + run[RUN.runId]
    : run[RUN.runUrl];
  const runCell = element("span");
  runCell.append(
    link(runUrl, runText, "Workflow run " + run[RUN.runId]),
    " · ",
    timeElement(data.generatedAt - run[RUN.age]),
  );

  row.append(
    repoCell(rev, repoIndex, first),
    dataCell("Workflow", stringAt(run[RUN.workflow])),
    dataCell("Status", status),
    dataCell("Duration", duration(run[RUN.seconds]), "num"),
    dataCell("Trigger", trigger),
    dataCell("Run", runCell),
    dataCell("Commit", commit),
  );
  return row;
}

function emptyRow(rev, repoIndex) {
  const code = rev.cells[repoIndex];
  const row = element("tr", "s-" + data.states[code][0]);
  row.dataset.repo = repoIndex;
  const text = element("span");
  const words = { n: "not rebuilt at this revision", u: "unavailable in this refresh" };
  text.append(mark(code, ""), " ", words[code] || data.states[code][1]);
  const td = dataCell("Status", text);
  td.colSpan = 6;
  row.append(repoCell(rev, repoIndex, true), td);
  return row;
}

function buildRuns(short, panel) {
  if (panel.firstChild) return;
  const rev = revisions[byShort.get(short)];
  const runsByRepo = new Map();
  for (const run of rev.runs) {
    if (!runsByRepo.has(run[RUN.repo])) runsByRepo.set(run[RUN.repo], []);
    runsByRepo.get(run[RUN.repo]).push(run);
  }
  const regressions = new Set(rev.regressions);
  const rank = (index) => ATTENTION.indexOf(rev.cells[index]) * 2 + (regressions.has(index) ? 0 : 1);
  const order = Array.from({ length: data.columns }, (_, index) => index);
  order.sort((a, b) => rank(a) - rank(b) || a - b);

  const table = element("table", "runs-table stack");
  table.append(element("caption", "sr", "Runs built from generator commit " + rev.sha));
  const head = element("tr");
  for (const name of ["Repo", "Workflow", "Status", "Duration", "Trigger", "Run", "Commit"]) {
    const th = element("th", "", name);
    th.scope = "col";
    head.append(th);
  }
  const thead = element("thead");
  thead.append(head);
  table.append(thead);
  const body = element("tbody");
  for (const repoIndex of order) {
    const runs = runsByRepo.get(repoIndex) || [];
    if (!runs.length) body.append(emptyRow(rev, repoIndex));
    runs.forEach((run, position) => body.append(runRow(rev, repoIndex, run, position === 0)));
  }
  table.append(body);
  panel.append(table);
}
