package report

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Plot sizes, in points; the page scales the SVG to its width.
const (
	plotWidth   = 820
	plotHeight  = 280
	legendWidth = 130
)

// Point budgets keep an SVG small on long histories: beyond them points are
// sampled evenly (and the caption says so).
const (
	maxLatencyOkPoints    = 6000
	maxLatencyOtherPoints = 3000
	maxRoleSegments       = 3000
)

// Figure is one rendered plot with its caption.
type Figure struct {
	ID      string
	Title   string
	SVG     template.HTML
	Caption string
}

var (
	colorOk    = color.RGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}
	colorFail  = color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	colorInfo  = color.RGBA{R: 0x8e, G: 0x44, B: 0xad, A: 0xff}
	colorAvail = color.RGBA{R: 0x15, G: 0x65, B: 0xc0, A: 0xff}
	colorGrey  = color.RGBA{R: 0x90, G: 0x90, B: 0x90, A: 0xff}
)

func outcomeColor(outcome string) color.Color {
	switch outcome {
	case OutcomeOk:
		return colorOk
	case OutcomeFail:
		return colorFail
	}
	return colorInfo
}

// faultPalette gives each nemesis kind one colour in plots and the timeline.
var faultPalette = map[string]string{
	"partition":  "#f4a261",
	"kill":       "#e63946",
	"pause":      "#219ebc",
	"clock":      "#9b5de5",
	"membership": "#2a9d8f",
}

var spareFaultColors = []string{"#e9c46a", "#8d99ae", "#ff70a6", "#70d6ff", "#a7c957"}

// faultColors assigns a colour to every kind in faults, stably.
func faultColors(faults []Fault) map[string]string {
	kinds := map[string]bool{}
	for _, f := range faults {
		kinds[f.Kind] = true
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	out := map[string]string{}
	spare := 0
	for _, k := range names {
		if c, ok := faultPalette[k]; ok {
			out[k] = c
			continue
		}
		out[k] = spareFaultColors[spare%len(spareFaultColors)]
		spare++
	}
	return out
}

func parseHexColor(s string, alpha uint8) color.Color {
	var r, g, b uint8
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return color.RGBA{A: alpha}
	}
	// color.RGBA is alpha-premultiplied.
	pm := func(v uint8) uint8 { return uint8(uint16(v) * uint16(alpha) / 255) }
	return color.RGBA{R: pm(r), G: pm(g), B: pm(b), A: alpha}
}

// faultShading is a plotter that shades each fault interval across the whole
// height of the data area, beneath the data.
type faultShading struct {
	faults []Fault
	colors map[string]string
}

func (s faultShading) Plot(c draw.Canvas, p *plot.Plot) {
	x, _ := p.Transforms(&c)
	for _, f := range s.faults {
		x0, x1 := x(float64(f.Start)/1e9), x(float64(f.End)/1e9)
		if x1-x0 < 1 {
			x1 = x0 + 1 // an instant event still shows as a thin band
		}
		rect := []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}}
		c.FillPolygon(parseHexColor(s.colors[f.Kind], 0x50), c.ClipPolygonX(rect))
	}
}

// swatch is a legend thumbnail of one fault kind's shading.
type swatch struct{ fill color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.fill, []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}})
}

// newPlot returns a plot in the report's style.
func newPlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	sans := func(size float64) font.Font {
		return font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(size)}
	}
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(12)
	p.X.Label.Text = "time since start (s)"
	p.Y.Label.Text = ylabel
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = sans(10)
		ax.Tick.Label.Font = sans(9)
	}
	p.Add(plotter.NewGrid())
	return p
}

func newLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font = font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(9)}
	l.Top, l.Left = true, true
	return l
}

func addFaultLegend(l *plot.Legend, colors map[string]string) {
	kinds := make([]string, 0, len(colors))
	for k := range colors {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		l.Add(k, swatch{fill: parseHexColor(colors[k], 0x50)})
	}
}

var svgPrologue = regexp.MustCompile(`(?s)^.*?<svg width="[^"]*" height="[^"]*"`)

// renderSVG draws the plot with its legend in a strip on the right, and
// returns SVG markup ready to inline in HTML (no XML prologue, fluid width).
// The time axis is set last, from start to end (ns), because adding data
// widens the axes to fit it and every plot must share one time axis.
func renderSVG(p *plot.Plot, legend plot.Legend, label string, start, end int64) (template.HTML, error) {
	p.X.Min, p.X.Max = float64(start)/1e9, math.Max(float64(end)/1e9, float64(start)/1e9+0.001)
	c := vgsvg.New(plotWidth, plotHeight)
	dc := draw.New(c)
	p.Draw(draw.Crop(dc, 0, -legendWidth, 0, 0))
	legend.Draw(draw.Crop(dc, plotWidth-legendWidth+8, 0, 0, -24))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", err
	}
	out := svgPrologue.ReplaceAll(buf.Bytes(), []byte(`<svg width="100%" role="img" aria-label="`+template.HTMLEscapeString(label)+`"`))
	// The SVG comes from gonum/plot, which escapes every text it draws.
	return template.HTML(out), nil
}

// latencyFigure plots each operation's latency at its invocation time, on a
// log scale, one series per function and outcome.
func latencyFigure(h *History, a Analysis, colors map[string]string) (Figure, error) {
	p := newPlot("Latency by operation and outcome", "latency (ms, log scale)")
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(faultShading{faults: h.Faults, colors: colors})

	type series struct {
		f, outcome string
		pts        plotter.XYs
	}
	var order []string
	byName := map[string]*series{}
	nOk, nOther := 0, 0
	for i := range h.Len() {
		if h.succeeded(i) {
			nOk++
		} else {
			nOther++
		}
	}
	seenOk, seenOther, plotted := 0, 0, 0
	minLat, maxLat := math.Inf(1), math.Inf(-1)
	for i := range h.Len() {
		op := h.Op(i)
		if op.Succeeded() {
			seenOk++
			if !evenPick(seenOk-1, nOk, maxLatencyOkPoints) {
				continue
			}
		} else {
			seenOther++
			if !evenPick(seenOther-1, nOther, maxLatencyOtherPoints) {
				continue
			}
		}
		outcome := op.Outcome
		if outcome == OutcomePending {
			outcome = OutcomeInfo
		}
		name := op.F + " " + outcome
		s, ok := byName[name]
		if !ok {
			s = &series{f: op.F, outcome: outcome}
			byName[name] = s
			order = append(order, name)
		}
		ms := math.Max(float64(op.Latency())/1e6, 0.001) // a log axis cannot show 0
		minLat, maxLat = math.Min(minLat, ms), math.Max(maxLat, ms)
		s.pts = append(s.pts, plotter.XY{X: float64(op.Start) / 1e9, Y: ms})
		plotted++
	}
	sort.Strings(order)
	legend := newLegend()
	for _, name := range order {
		s := byName[name]
		sc, err := plotter.NewScatter(s.pts)
		if err != nil {
			return Figure{}, fmt.Errorf("latency plot: %w", err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: outcomeColor(s.outcome), Radius: vg.Points(1.6), Shape: glyphFor(s.f)}
		p.Add(sc)
		legend.Add(name, sc)
	}
	addFaultLegend(&legend, colors)
	if plotted == 0 {
		minLat, maxLat = 0.1, 10
	}
	p.Y.Min = math.Pow(10, math.Floor(math.Log10(minLat)))
	p.Y.Max = math.Pow(10, math.Ceil(math.Log10(maxLat*1.01)))
	svg, err := renderSVG(p, legend, "latency over time", a.Start, a.End)
	if err != nil {
		return Figure{}, err
	}
	caption := "Each dot is one operation: when it was invoked (x) and how long it took (y). Green succeeded, red failed, purple is unknown (timed out: info). Shaded bands are faults."
	if plotted < h.Len() {
		caption += fmt.Sprintf(" Sampled: %d of %d operations drawn.", plotted, h.Len())
	}
	return Figure{ID: "plot-latency", Title: "Latency", SVG: svg, Caption: caption}, nil
}

func glyphFor(f string) draw.GlyphDrawer {
	switch f {
	case "read":
		return draw.CircleGlyph{}
	case "write":
		return draw.TriangleGlyph{}
	case "cas":
		return draw.SquareGlyph{}
	case "add", "append":
		return draw.PlusGlyph{}
	}
	return draw.CrossGlyph{}
}

// throughputFigure plots completions per second, by outcome.
func throughputFigure(h *History, a Analysis, colors map[string]string) (Figure, error) {
	p := newPlot("Throughput", "completions per second")
	p.Add(faultShading{faults: h.Faults, colors: colors})
	w := float64(a.BucketWidth) / 1e9
	legend := newLegend()
	for _, o := range []string{OutcomeOk, OutcomeFail, OutcomeInfo} {
		pts := make(plotter.XYs, len(a.Buckets))
		for i, b := range a.Buckets {
			n := b.Ok
			switch o {
			case OutcomeFail:
				n = b.Fail
			case OutcomeInfo:
				n = b.Info
			}
			pts[i] = plotter.XY{X: float64(b.Start)/1e9 + w/2, Y: float64(n) / w}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return Figure{}, fmt.Errorf("throughput plot: %w", err)
		}
		l.LineStyle = draw.LineStyle{Color: outcomeColor(o), Width: vg.Points(1.2)}
		p.Add(l)
		legend.Add(o, l)
	}
	p.Y.Min = 0
	addFaultLegend(&legend, colors)
	svg, err := renderSVG(p, legend, "throughput over time", a.Start, a.End)
	if err != nil {
		return Figure{}, err
	}
	return Figure{ID: "plot-throughput", Title: "Throughput", SVG: svg,
		Caption: fmt.Sprintf("Operations completed per second in windows of %s, by outcome. Shaded bands are faults.", span(a.BucketWidth))}, nil
}

// availabilityFigure plots the share of successful operations: per window
// (thin), per fault phase (thick steps), and after each heal a bar from the
// heal to the first success (the time to recover).
func availabilityFigure(h *History, a Analysis, colors map[string]string) (Figure, error) {
	p := newPlot("Availability", "share of operations ok")
	p.Add(faultShading{faults: h.Faults, colors: colors})
	legend := newLegend()
	w := float64(a.BucketWidth) / 1e9

	// Windows with no invocation leave a gap rather than a fake zero.
	var runs []plotter.XYs
	var cur plotter.XYs
	for _, b := range a.Buckets {
		if b.Invoked == 0 {
			if len(cur) > 0 {
				runs = append(runs, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: float64(b.Start)/1e9 + w/2, Y: float64(b.InvokedOk) / float64(b.Invoked)})
	}
	if len(cur) > 0 {
		runs = append(runs, cur)
	}
	for i, r := range runs {
		l, err := plotter.NewLine(r)
		if err != nil {
			return Figure{}, fmt.Errorf("availability plot: %w", err)
		}
		l.LineStyle = draw.LineStyle{Color: colorGrey, Width: vg.Points(0.8)}
		p.Add(l)
		if i == 0 {
			legend.Add("per "+span(a.BucketWidth), l)
		}
	}
	first := true
	for _, ph := range a.Phases {
		if math.IsNaN(ph.Availability) {
			continue
		}
		l, err := plotter.NewLine(plotter.XYs{{X: float64(ph.Start) / 1e9, Y: ph.Availability}, {X: float64(ph.End) / 1e9, Y: ph.Availability}})
		if err != nil {
			return Figure{}, fmt.Errorf("availability plot: %w", err)
		}
		l.LineStyle = draw.LineStyle{Color: colorAvail, Width: vg.Points(2.5)}
		p.Add(l)
		if first {
			legend.Add("per fault phase", l)
			first = false
		}
	}
	var labels plotter.XYLabels
	firstRec := true
	for i, r := range a.Recoveries {
		y := 1.05
		end := r.RecoveredAt
		text := span(r.After)
		if !r.Recovered {
			end = a.End
			text = "never"
		}
		l, err := plotter.NewLine(plotter.XYs{{X: float64(r.Heal) / 1e9, Y: y}, {X: float64(end) / 1e9, Y: y}})
		if err != nil {
			return Figure{}, fmt.Errorf("availability plot: %w", err)
		}
		l.LineStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(2)}
		p.Add(l)
		if firstRec {
			legend.Add("time to recover", l)
			firstRec = false
		}
		if len(a.Recoveries) <= 16 {
			// Alternate heights so that labels of close heals do not overlap.
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(r.Heal) / 1e9, Y: y + 0.02 + 0.035*float64(i%2)})
			labels.Labels = append(labels.Labels, text)
		}
	}
	if len(labels.XYs) > 0 {
		lb, err := plotter.NewLabels(labels)
		if err != nil {
			return Figure{}, fmt.Errorf("availability plot: %w", err)
		}
		for i := range lb.TextStyle {
			lb.TextStyle[i].Font = font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(7)}
		}
		p.Add(lb)
	}
	addFaultLegend(&legend, colors)
	p.Y.Min, p.Y.Max = 0, 1.15
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0%"}, {Value: 0.25, Label: "25%"}, {Value: 0.5, Label: "50%"}, {Value: 0.75, Label: "75%"}, {Value: 1, Label: "100%"}}
	svg, err := renderSVG(p, legend, "availability over time", a.Start, a.End)
	if err != nil {
		return Figure{}, err
	}
	return Figure{ID: "plot-availability", Title: "Availability", SVG: svg,
		Caption: "The share of invoked operations that succeeded: thin grey per window, thick blue per fault phase. Black bars at the top run from each heal to the first success of an operation invoked after it: the time to recover."}, nil
}

// roleColors colour a node's role in the roles plot.
var roleColors = map[string]color.Color{
	"leader":        color.RGBA{R: 0x15, G: 0x65, B: 0xc0, A: 0xff},
	"candidate":     color.RGBA{R: 0xef, G: 0x6c, B: 0x00, A: 0xff},
	"follower":      color.RGBA{R: 0xb0, G: 0xbe, B: 0xc5, A: 0xff},
	"learner":       color.RGBA{R: 0x80, G: 0xcb, B: 0xc4, A: 0xff},
	roleUnreachable: color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff},
}

// rolesFigure draws each node's role over time, one row per node.
func rolesFigure(h *History, a Analysis, nd nodeData, colors map[string]string) (Figure, bool, error) {
	var nodes []NodeFacts
	for _, n := range nd.Nodes {
		if len(n.Changes) > 0 {
			nodes = append(nodes, n)
		}
	}
	if len(nodes) == 0 {
		return Figure{}, false, nil
	}
	end := a.End
	for _, n := range nodes {
		end = max(end, n.Changes[len(n.Changes)-1].Time)
	}
	p := newPlot("Node roles", "")
	p.Add(faultShading{faults: h.Faults, colors: colors})
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.ID
	}
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.6, float64(len(nodes))-0.4
	legend := newLegend()
	inLegend := map[string]bool{}
	segments := 0
	for row, n := range nodes {
		for i, ch := range n.Changes {
			if segments >= maxRoleSegments {
				break
			}
			until := end
			if i+1 < len(n.Changes) {
				until = n.Changes[i+1].Time
			}
			clr, ok := roleColors[ch.Role]
			if !ok {
				clr = colorGrey
			}
			l, err := plotter.NewLine(plotter.XYs{{X: float64(ch.Time) / 1e9, Y: float64(row)}, {X: float64(until) / 1e9, Y: float64(row)}})
			if err != nil {
				return Figure{}, false, fmt.Errorf("roles plot: %w", err)
			}
			l.LineStyle = draw.LineStyle{Color: clr, Width: vg.Points(9)}
			p.Add(l)
			segments++
			if !inLegend[ch.Role] {
				inLegend[ch.Role] = true
				legend.Add(ch.Role, l)
			}
		}
	}
	addFaultLegend(&legend, colors)
	svg, err := renderSVG(p, legend, "node roles over time", a.Start, end)
	if err != nil {
		return Figure{}, false, err
	}
	return Figure{ID: "plot-roles", Title: "Node roles", SVG: svg,
		Caption: "Each node's role as polled from /admin/status: leader blue, candidate orange, follower grey, unreachable red. Shaded bands are faults."}, true, nil
}
