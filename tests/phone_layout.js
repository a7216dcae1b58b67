// What tests/test_phone_layout.py measures on each page; MAX_CHROME and MIN_TARGET are filled in.
() => {
  const vw = window.innerWidth;
  const problems = [];
  if (document.documentElement.scrollWidth > vw) problems.push(`document ${document.documentElement.scrollWidth}px wide`);
  document.querySelectorAll('table').forEach((t, i) => {
    const r = t.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 0.5 || r.width > vw)) problems.push(`table ${i} ${Math.round(r.width)}px wide`);
  });
  const bar = (sel) => { const e = document.querySelector(sel); if (!e) return 0;
    const s = getComputedStyle(e); return s.display === 'none' ? 0 : e.getBoundingClientRect().height; };
  const chrome = bar('.topbar') + bar('.mainnav') + bar('.bottombar');
  if (chrome > MAX_CHROME) problems.push(`header and navigation ${chrome}px`);
  const current = [...document.querySelectorAll('.bottombar [aria-current]')].length;
  if (document.querySelector('.bottombar') && current !== 1) problems.push(`${current} highlighted items`);
  const inRunningText = (el) => {
    if (el.closest('table')) return false;
    const parent = el.parentElement;
    const own = el.textContent.trim().length;
    return parent && parent.textContent.trim().length > own + 1 && getComputedStyle(el).display === 'inline';
  };
  document.querySelectorAll('main a[href], main button, main input, main select, main textarea, main summary').forEach((el) => {
    if (el.type === 'hidden') return;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return;
    let h = r.height;
    if (el.type === 'checkbox' || el.type === 'radio') {
      const label = el.closest('label') || el.parentElement;
      h = label.getBoundingClientRect().height;
    }
    if (el.tagName === 'A' && inRunningText(el)) return;
    if (h < MIN_TARGET - 0.5) problems.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.name || '').trim().slice(0, 30)}" ${Math.round(h)}px tall`);
  });
  return problems;
}
