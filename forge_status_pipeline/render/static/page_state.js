// The status page's script, part 4 of 4: filter, view and open revisions, kept in the URL hash,
// and the page's setup.

function readHash() {
  const hash = location.hash.replace(/^#/, "");
  const single = /^rev-([0-9a-f]+)$/.exec(hash);
  const params = new URLSearchParams(single ? "" : hash);
  const filter = params.get("filter");
  const view = params.get("view");
  const open = single ? [single[1]] : (params.get("open") || "").split(",");
  state.filter = FILTERS.includes(filter) ? filter : "all";
  state.view = VIEWS.includes(view) ? view : "list";
  state.open = new Set(open.filter((short) => byShort.has(short)));
}

function writeHash() {
  const parts = [];
  if (state.filter !== "all") parts.push("filter=" + state.filter);
  if (state.view !== "list") parts.push("view=" + state.view);
  if (state.open.size) parts.push("open=" + Array.from(state.open).join(","));
  const hash = parts.length ? "#" + parts.join("&") : "";
  if (location.hash === hash) return;
  history.replaceState(null, "", hash || location.pathname + location.search);
}

function applyState() {
  for (const button of document.querySelectorAll("[data-filter]")) {
    button.setAttribute("aria-pressed", String(button.dataset.filter === state.filter));
  }
  for (const button of document.querySelectorAll("[data-view]")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === state.view));
  }
  for (const count of document.querySelectorAll(".seg .count")) {
    count.textContent = state.view === "repos" ? count.dataset.repos : count.dataset.revisions;
  }
  if (state.view === "grid") buildGrid();
  for (const name of VIEWS) {
    const view = document.getElementById("view-" + name);
    view.hidden = name !== state.view;
    let visibleRows = 0;
    for (const row of view.querySelectorAll("[data-group]")) {
      row.hidden = state.filter !== "all" && row.dataset.group !== state.filter;
      if (!row.hidden) visibleRows += 1;
    }
    view.querySelector(".empty").hidden = visibleRows > 0;
  }
  for (const item of document.querySelectorAll(".rev")) {
    const open = state.open.has(item.dataset.sha);
    const panel = item.querySelector(".runs");
    if (open) buildRuns(item.dataset.sha, panel);
    panel.hidden = !open;
    item.querySelector(".rev-toggle").setAttribute("aria-expanded", String(open));
  }
}

function reveal(short, repoIndex) {
  const item = document.getElementById("rev-" + short);
  if (!item) return;
  item.querySelector(".rev-toggle").focus({ preventScroll: true });
  const row = repoIndex === undefined ? null : item.querySelector('tr[data-repo="' + repoIndex + '"]');
  (row || item).scrollIntoView({ block: row ? "center" : "start" });
}

function goto(short, repoIndex) {
  if (!byShort.has(short)) return;
  const group = revisions[byShort.get(short)].group;
  if (state.filter !== "all" && state.filter !== group) state.filter = "all";
  state.view = "list";
  state.open.add(short);
  applyState();
  writeHash();
  reveal(short, repoIndex);
}

function onClick(event) {
  const target = event.target;
  if (!(target instanceof Element)) return;
  const filterButton = target.closest("[data-filter]");
  const viewButton = target.closest("[data-view]");
  const gotoTarget = target.closest("[data-goto]");
  const gridRow = target.closest(".grid-row[data-sha]");
  const head = target.closest(".rev-head");
  if (filterButton) {
    state.filter = filterButton.dataset.filter;
  } else if (viewButton) {
    state.view = viewButton.dataset.view;
  } else if (gotoTarget) {
    event.preventDefault();
    goto(gotoTarget.dataset.goto);
    return;
  } else if (gridRow) {
    const cell = target.closest(".c");
    if (cell) {
      const chunk = cell.parentElement;
      const column = Number(chunk.dataset.start) + Array.prototype.indexOf.call(chunk.children, cell);
      goto(gridRow.dataset.sha, column);
    } else if (target.closest("button")) {
      goto(gridRow.dataset.sha);
    }
    return;
  } else if (head && !target.closest("a")) {
    const short = head.parentElement.dataset.sha;
    if (state.open.has(short)) state.open.delete(short);
    else state.open.add(short);
  } else {
    return;
  }
  applyState();
  writeHash();
}

readHash();
applyState();
refreshTimes();
if (state.open.size) reveal(Array.from(state.open)[0]);
document.addEventListener("click", onClick);
window.addEventListener("hashchange", () => {
  readHash();
  applyState();
  if (state.open.size) reveal(Array.from(state.open)[0]);
});
setInterval(refreshTimes, 60000);
// Ready once the first frame after setup has been laid out and painted, so load-time
// measurements include the layout of whatever the state shows.
requestAnimationFrame(() => {
  setTimeout(() => {
    performance.mark("page-ready");
    document.documentElement.dataset.ready = "";
  }, 0);
});
