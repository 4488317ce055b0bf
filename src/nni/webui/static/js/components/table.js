// A virtualized table over a paged server query.
//
// Only the rows in view (plus a margin) exist in the DOM, and they are recycled while scrolling;
// rows are fetched from the server a page at a time when they come into view. 10,000 or 1,000,000
// trials cost the same: one page request and ~40 row elements.

import { h } from '../dom.js';

export class VirtualTable {
  /**
   * @param container element to fill
   * @param options.columns [{key, title, width, sortKey, align, render(row, cell, index)}]
   * @param options.fetchPage async (offset, limit) => {total, rows}
   * @param options.onSort (column) => void, called on a sortable header click
   * @param options.onRowClick (row, event) => void
   * @param options.rowHeight pixels per row
   */
  constructor(container, { columns, fetchPage, onSort, onRowClick, rowHeight = 34, pageSize = 100, height = 520,
    empty = 'Nothing to show' }) {
    this.columns = columns;
    this.fetchPage = fetchPage;
    this.onSort = onSort;
    this.onRowClick = onRowClick;
    this.rowHeight = rowHeight;
    this.pageSize = pageSize;
    this.emptyText = empty;
    this.total = null;
    this.pages = new Map();
    this.pending = new Map();
    this.version = 0;
    this.freshness = 0;
    this.sort = null;
    this.order = 'asc';
    this.pool = [];
    this.firstRender = null;
    this.onLoaded = null;
    this._frame = 0;

    this.header = h('div.vt-head', { role: 'row' });
    this.sizer = h('div.vt-sizer');
    this.emptyNode = h('div.vt-empty', { hidden: true }, empty);
    this.scroller = h('div.vt', { role: 'grid', tabindex: '0' }, this.header, this.sizer, this.emptyNode);
    this.maxHeight = height;
    this.minHeight = 120;
    this.shownHeight = 0;
    container.appendChild(this.scroller);
    this.scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    this._observer = new ResizeObserver(() => {
      // a wider or narrower table: share the new width among the flexible columns again
      if (this.columns && this.scroller.clientWidth !== this._templateWidth) this.setColumns(this.columns);
      else this.schedule();
    });
    this._observer.observe(this.scroller);
    this.setColumns(columns);
  }

  /**
   * One pixel template shared by the header and every row. Each row is its own grid, so flexible
   * tracks (``minmax(110px, 1fr)``) would size to each row's content and long values would shift
   * that row's cells; resolving them to pixels from the table's width keeps every column aligned.
   */
  fixedTemplate(columns) {
    const pixels = (c) => (typeof c.width === 'number' ? c.width
      : /^\d+px$/.test(String(c.width || '120px')) ? parseInt(c.width || '120px', 10) : null);
    const fixed = columns.reduce((sum, c) => sum + (pixels(c) ?? 0), 0);
    const flexible = columns.filter((c) => pixels(c) === null);
    const floor = (c) => {
      const match = /minmax\((\d+)px/.exec(String(c.width));
      return match ? Number(match[1]) : 110;
    };
    const room = Math.max(0, (this.scroller.clientWidth || 1200) - fixed - 2);
    const share = flexible.length ? Math.floor(room / flexible.length) : 0;
    return columns.map((c) => `${pixels(c) ?? Math.max(floor(c), share)}px`).join(' ');
  }

  setColumns(columns) {
    this.columns = columns;
    this.template = this.fixedTemplate(columns);
    this._templateWidth = this.scroller.clientWidth;
    this.header.style.gridTemplateColumns = this.template;
    this.header.replaceChildren(...columns.map((column) => {
      const cell = h('div.vt-th', { role: 'columnheader', title: column.tooltip || column.title,
        class: column.align === 'right' ? 'right' : '' });
      if (column.sortKey) {
        const active = this.sort === column.sortKey;
        cell.classList.add('sortable');
        if (active) cell.classList.add(this.order === 'desc' ? 'desc' : 'asc');
        cell.setAttribute('aria-sort', active ? (this.order === 'desc' ? 'descending' : 'ascending') : 'none');
        cell.tabIndex = 0;
        cell.addEventListener('click', () => this.onSort && this.onSort(column));
        cell.addEventListener('keydown', (event) => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            if (this.onSort) this.onSort(column);
          }
        });
      }
      if (column.header) column.header(cell);
      else cell.appendChild(h('span', column.title));
      return cell;
    }));
    for (const row of this.pool) row.el.remove();
    this.pool = [];
    this.schedule();
  }

  setSort(sortKey, order) {
    this.sort = sortKey;
    this.order = order;
    this.setColumns(this.columns);
  }

  /** The query changed: forget every page and start again from the top. */
  reset() {
    this.version += 1;
    this.pages.clear();
    this.pending.clear();
    this.total = null;
    this.scroller.scrollTop = 0;
    this.schedule();
  }

  /** The data changed: refetch the pages in view, showing the old rows until the new ones arrive. */
  refresh() {
    this.freshness += 1;
    this.schedule();
  }

  schedule() {
    if (this._frame) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      this.render();
    });
  }

  visibleRange() {
    const headerHeight = this.header.offsetHeight || this.rowHeight;
    const top = Math.max(0, this.scroller.scrollTop - headerHeight);
    const height = this.scroller.clientHeight;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - 5);
    const count = Math.ceil(height / this.rowHeight) + 10;
    return [first, first + count];
  }

  ensurePages(first, last) {
    const lastRow = this.total === null ? first + this.pageSize : Math.min(last, this.total);
    for (let page = Math.floor(first / this.pageSize); page * this.pageSize < Math.max(lastRow, 1); page += 1) {
      const have = this.pages.get(page);
      if ((have && have.freshness === this.freshness) || this.pending.has(page)) continue;
      const version = this.version;
      const freshness = this.freshness;
      const request = this.fetchPage(page * this.pageSize, this.pageSize)
        .then((result) => {
          if (version !== this.version) return;
          this.pages.set(page, { rows: result.rows, freshness });
          if (this.total !== result.total && page !== 0 && this.total !== null) {
            // the total moved under us (trials added or filtered out): other pages are stale
            for (const key of [...this.pages.keys()]) if (key !== page) this.pages.get(key).freshness = -1;
          }
          this.total = result.total;
          this.schedule();
          if (this.onLoaded) this.onLoaded(result);
        })
        .catch((error) => {
          if (version === this.version && this.onError) this.onError(error);
        })
        .finally(() => {
          if (this.pending.get(page) === request) this.pending.delete(page);
        });
      this.pending.set(page, request);
    }
  }

  rowAt(index) {
    const page = this.pages.get(Math.floor(index / this.pageSize));
    return page ? page.rows[index % this.pageSize] : undefined;
  }

  makeRow() {
    const cells = this.columns.map((column) => h('div.vt-td', { role: 'gridcell',
      class: `${column.align === 'right' ? 'right' : ''} ${column.cellClass || ''}` }));
    const el = h('div.vt-row', { role: 'row' }, cells);
    el.style.gridTemplateColumns = this.template;
    el.style.height = `${this.rowHeight}px`;
    el.addEventListener('click', (event) => {
      if (el._data && this.onRowClick && !event.target.closest('button, input, a, label')) this.onRowClick(el._data, event);
    });
    this.sizer.appendChild(el);
    return { el, cells };
  }

  render() {
    const [first, last] = this.visibleRange();
    this.ensurePages(first, last);
    const total = this.total ?? 0;
    this.sizer.style.height = `${total * this.rowHeight}px`;
    // as tall as the rows need, up to the maximum: ten trials should not float in a tall empty box
    const wanted = Math.min(this.maxHeight, Math.max(this.minHeight, (this.header.offsetHeight || this.rowHeight)
      + Math.max(total, this.total === null ? 10 : 0) * this.rowHeight + 2));
    if (wanted !== this.shownHeight) {
      this.shownHeight = wanted;
      this.scroller.style.height = `${wanted}px`;
    }
    this.emptyNode.hidden = this.total !== 0;
    const end = Math.min(last, total);
    const needed = Math.max(0, end - first);
    while (this.pool.length < needed) this.pool.push(this.makeRow());
    let drawn = 0;
    for (let k = 0; k < this.pool.length; k += 1) {
      const slot = this.pool[k];
      const index = first + k;
      if (k >= needed) {
        slot.el.hidden = true;
        continue;
      }
      slot.el.hidden = false;
      slot.el.style.transform = `translateY(${index * this.rowHeight}px)`;
      const row = this.rowAt(index);
      if (slot.el._data === row && slot.el._index === index && row !== undefined) {
        drawn += 1;
        continue;
      }
      slot.el._data = row;
      slot.el._index = index;
      slot.el.classList.toggle('loading', row === undefined);
      slot.el.classList.toggle('odd', index % 2 === 1);
      if (row === undefined) {
        for (const cell of slot.cells) cell.textContent = '';
        continue;
      }
      drawn += 1;
      this.columns.forEach((column, c) => column.render(row, slot.cells[c], index));
      if (this.decorateRow) this.decorateRow(row, slot.el);
    }
    if (drawn > 0 && this.firstRender) {
      const done = this.firstRender;
      this.firstRender = null;
      done();
    }
  }

  /** Re-run the cell renderers of the rows in view (selection changed, a clock ticked). */
  repaint() {
    for (const slot of this.pool) {
      if (slot.el.hidden || slot.el._data === undefined) continue;
      this.columns.forEach((column, c) => column.render(slot.el._data, slot.cells[c], slot.el._index));
      if (this.decorateRow) this.decorateRow(slot.el._data, slot.el);
    }
  }

  destroy() {
    this._observer.disconnect();
    cancelAnimationFrame(this._frame);
    this.version += 1;
    this.scroller.remove();
  }
}
