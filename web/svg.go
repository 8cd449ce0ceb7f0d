package web

import (
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// Charts are SVG drawn here on the server: nothing to download or embed,
// no script (so the CSP can forbid inline script and every other origin),
// and they render in microseconds. Colours and fonts come from classes in
// app.css; every label is escaped before it enters the markup.

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// sparkline draws a series as a small line with its last point marked.
func sparkline(series []int) template.HTML {
	const w, h = 120.0, 28.0
	if len(series) == 0 {
		return template.HTML(`<svg class="spark" viewBox="0 0 120 28" width="120" height="28" role="img" aria-label="no data"></svg>`)
	}
	mx := 1
	for _, v := range series {
		mx = max(mx, v)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" viewBox="0 0 %s %s" width="120" height="28" role="img" aria-label="%s"><polyline points="`, num(w), num(h), html.EscapeString(intsLabel(series)))
	step := w / float64(max(len(series)-1, 1))
	var lx, ly float64
	for i, v := range series {
		lx, ly = float64(i)*step, h-2-float64(v)/float64(mx)*(h-4)
		if len(series) == 1 {
			lx = w / 2
		}
		fmt.Fprintf(&b, "%s,%s ", num(lx), num(ly))
	}
	fmt.Fprintf(&b, `"/><circle cx="%s" cy="%s" r="2.5"/></svg>`, num(lx), num(ly))
	return template.HTML(b.String())
}

func intsLabel(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, " ")
}

// timeChart draws a time series as bars (cumulative=false) or an area
// (cumulative=true) with a y scale and first/middle/last time labels.
func timeChart(ps []clickhouse.Point, cumulative bool, tz *time.Location, label string) template.HTML {
	const w, h, left, bottom, top = 720.0, 220.0, 48.0, 24.0, 10.0
	var b strings.Builder
	cls := "chart bars"
	if cumulative {
		cls = "chart area"
	}
	fmt.Fprintf(&b, `<svg class="%s" viewBox="0 0 %s %s" role="img" aria-label="%s" preserveAspectRatio="none">`, cls, num(w), num(h), html.EscapeString(label))
	if len(ps) == 0 {
		b.WriteString(`</svg>`)
		return template.HTML(b.String())
	}
	var mx int64 = 1
	for _, p := range ps {
		mx = max(mx, p.Posts)
	}
	ticks := niceTicks(mx)
	mx = ticks[len(ticks)-1] // the scale ends at the top tick
	plotW, plotH := w-left-4, h-bottom-top
	y := func(v int64) float64 { return top + plotH - float64(v)/float64(mx)*plotH }
	for _, v := range ticks {
		fmt.Fprintf(&b, `<line class="grid" x1="%s" x2="%s" y1="%s" y2="%s"/><text class="ylab" x="%s" y="%s">%d</text>`,
			num(left), num(w-4), num(y(v)), num(y(v)), num(left-6), num(y(v)+4), v)
	}
	bw := plotW / float64(len(ps))
	if cumulative {
		fmt.Fprintf(&b, `<path d="M%s,%s`, num(left), num(y(0)))
		for i, p := range ps {
			fmt.Fprintf(&b, ` L%s,%s`, num(left+(float64(i)+0.5)*bw), num(y(p.Posts)))
		}
		fmt.Fprintf(&b, ` L%s,%s Z"/>`, num(left+(float64(len(ps))-0.5)*bw), num(y(0)))
	} else {
		for i, p := range ps {
			if p.Posts == 0 {
				continue
			}
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s"><title>%s: %d</title></rect>`,
				num(left+float64(i)*bw+bw*0.1), num(y(p.Posts)), num(max(bw*0.8, 0.5)), num(y(0)-y(p.Posts)),
				html.EscapeString(p.Time.In(tz).Format("2006-01-02 15:04")), p.Posts)
		}
	}
	for _, i := range []int{0, len(ps) / 2, len(ps) - 1} {
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case len(ps) - 1:
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text class="xlab" x="%s" y="%s" text-anchor="%s">%s</text>`,
			num(left+(float64(i)+0.5)*bw), num(h-6), anchor, html.EscapeString(ps[i].Time.In(tz).Format("02/01 15:04")))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// barList draws ranked counts as labelled horizontal bars.
func barList(cs []clickhouse.Count, label string) template.HTML {
	const w, row = 360.0, 22.0
	if len(cs) == 0 {
		return ""
	}
	var mx int64 = 1
	for _, c := range cs {
		mx = max(mx, c.Posts)
	}
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.Key
	}
	short := shortLabels(keys, 22)
	h := row * float64(len(cs))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart hbars" viewBox="0 0 %s %s" role="img" aria-label="%s">`, num(w), num(h), html.EscapeString(label))
	for i, c := range cs {
		y := float64(i) * row
		bar := float64(c.Posts) / float64(mx) * (w - 170)
		key := short[i]
		if key == "" {
			key = "—"
		}
		fmt.Fprintf(&b, `<text class="blab" x="0" y="%s">%s<title>%s</title></text><rect x="150" y="%s" width="%s" height="%s"/><text class="bval" x="%s" y="%s">%d</text>`,
			num(y+15), html.EscapeString(key), html.EscapeString(c.Key), num(y+4), num(max(bar, 1)), num(row-8), num(150+bar+4), num(y+15), c.Posts)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceTicks returns 3 to 6 evenly spaced whole-number ticks from 0 to at
// least mx, spaced 1, 2 or 5 times a power of ten: "0 2 4 6", never the
// "0 1 3" that halving a small maximum gave.
func niceTicks(mx int64) []int64 {
	mx = max(mx, 1)
	step := int64(1)
	for (mx+step-1)/step > 5 {
		switch s := step; {
		case firstDigit(s) == 1:
			step = s * 2
		case firstDigit(s) == 2:
			step = s / 2 * 5
		default:
			step = s * 2
		}
	}
	top := (mx + step - 1) / step * step
	ticks := make([]int64, 0, top/step+1)
	for v := int64(0); v <= top; v += step {
		ticks = append(ticks, v)
	}
	return ticks
}

func firstDigit(n int64) int64 {
	for n >= 10 {
		n /= 10
	}
	return n
}

// shortLabels fits labels into n runes for a chart, without the scheme or
// "www." of a URL, cutting the middle ("vnexpress.net/…thoi-su.rss") so
// that labels which differ only at the end stay apart; a URL keeps its host
// while it can, and labels that still collide keep more of their ends.
func shortLabels(keys []string, n int) []string {
	clean := make([]string, len(keys))
	heads := make([]int, len(keys))
	for i, k := range keys {
		k = strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://")
		k = strings.TrimSuffix(strings.TrimPrefix(k, "www."), "/")
		clean[i] = k
		heads[i] = n / 2
		if slash := strings.IndexByte(k, '/'); slash > 0 {
			heads[i] = min(len([]rune(k[:slash]))+1, n-7)
		}
	}
	out := make([]string, len(keys))
	for {
		count := map[string]int{}
		for i, k := range clean {
			out[i] = cutMiddle(k, n, heads[i])
			count[out[i]]++
		}
		moved := false
		for i := range out {
			if count[out[i]] > 1 && out[i] != clean[i] && heads[i] > 4 {
				heads[i]--
				moved = true
			}
		}
		if !moved {
			return out
		}
	}
}

// cutMiddle shortens s to n runes: its first head runes, "…", its end.
func cutMiddle(s string, n, head int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:head]) + "…" + string(r[len(r)-(n-1-head):])
}
