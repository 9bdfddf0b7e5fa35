// The status page's script, part 3 of 4: the grid of revisions and repos.

// One row per revision, one column per configured repo, built when first shown. Rows are split
// into chunks of GRID_CHUNK cells with CSS content-visibility, so the browser lays out only the
// chunks in view. Measured in headless Chromium 156 on a busy 2-core machine, with the 30 × 500
// page of benchmarks/page_benchmark.py: a <table> took about 1 s to lay out, the chunks 15–60 ms.
const GRID_CHUNK = 40;

function cellTitle(rev, repoIndex, word, regression, lastPassing) {
  let title = repos[repoIndex][1] + " at " + rev.short + ": ";
  title += word === undefined ? data.states[rev.cells[repoIndex]][1] : stringAt(word);
  if (regression) title += ", regression";
  if (lastPassing !== undefined) title += ", last passed at " + revisions[lastPassing].short;
  return title;
}

function gridRow(header, makeCell) {
  const row = element("div", "grid-row");
  row.setAttribute("role", "row");
  row.append(header);
  for (let start = 0; start < data.columns; start += GRID_CHUNK) {
    const chunk = element("div", "grid-chunk");
    chunk.setAttribute("role", "none");
    chunk.dataset.start = start;
    for (let index = start; index < Math.min(start + GRID_CHUNK, data.columns); index += 1) {
      chunk.append(makeCell(index));
    }
    row.append(chunk);
  }
  return row;
}

function gridHeader(index) {
  const header = element("div", "grid-col");
  header.setAttribute("role", "columnheader");
  header.append(repoLink(index));
  if (repos[index][3]) {
    const stale = element("span", "mark m-stale", data.states.s[2]);
    stale.setAttribute("role", "img");
    stale.setAttribute("aria-label", "stale");
    header.append(" ", stale);
  }
  return header;
}

function buildGrid() {
  if (gridBuilt) return;
  gridBuilt = true;
  const grid = element("div", data.columns > 8 ? "grid many" : "grid");
  grid.setAttribute("role", "table");
  grid.setAttribute("aria-label", "Build state by generator revision (rows, newest first) and repo");
  const corner = element("div", "grid-corner", "Revision");
  corner.setAttribute("role", "columnheader");
  const head = gridRow(corner, gridHeader);
  head.classList.add("grid-head");
  grid.append(head);
  for (const rev of revisions) {
    const header = element("div", "grid-rowhead");
    header.setAttribute("role", "rowheader");
    const button = element("button", "", rev.short);
    button.type = "button";
    button.setAttribute("aria-label", rev.short + ": show runs in the list");
    header.append(button, element("span", "sum", rev.summary), timeElement(rev.timestamp));
    const regressions = new Set(rev.regressions);
    const lastPassing = new Map(rev.lastPassing);
    const words = new Map(rev.words);
    const row = gridRow(header, (index) => {
      const code = rev.cells[index];
      const regression = regressions.has(index);
      const cell = element("div", "c c-" + code + (regression ? " reg" : ""));
      const title = cellTitle(rev, index, words.get(index), regression, lastPassing.get(index));
      cell.setAttribute("role", "cell");
      cell.title = title;
      cell.append(mark(code, title));
      return cell;
    });
    row.dataset.sha = rev.short;
    row.dataset.group = rev.group;
    grid.append(row);
  }
  document.querySelector("#view-grid .grid-scroll").append(grid);
}
