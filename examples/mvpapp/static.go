package mvpapp

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sizes of the generated static files, in bytes. The generators pad to the
// exact size, except for hero.png whose size the PNG encoder decides (a test
// checks it); Capacity uses them to compute the frontend's capacity.
const (
	homeHTMLSize = 2048
	appJSSize    = 48_000
	heroPNGSize  = 360_518
	heroWidth    = 400
	heroHeight   = 300
)

// The static files' ETags. They name a release rather than hash the bytes,
// so that a scenario can revalidate a file (If-None-Match) the way a returning
// visitor's browser does, whatever the Go version's PNG encoder produces.
const (
	HomeETag  = `W/"index.html-1"`
	AppJSETag = `W/"app.js-1"`
	HeroETag  = `W/"hero.png-1"`
)

// errStaticBusy is returned when no static slot frees in time.
var errStaticBusy = errors.New("static server busy")

// asset is one static file, with its CDN variant.
type asset struct {
	contentType string
	body        []byte
	// CDN variant: gzip of body for text, or a smaller image.
	cdnType      string
	cdnBody      []byte // nil: serve body (gzipped if gz is set)
	gz           []byte // gzip of body, for text assets
	cacheControl string // Cache-Control behind the CDN
	// etag is the file's validator, weak so that it holds for every variant
	// (plain, gzip, the CDN's image): a client that sends it back in
	// If-None-Match gets 304 Not Modified.
	etag string
}

// assets are the app's static files, generated deterministically at start.
type assets struct {
	home, appJS, hero asset
}

func newAssets() (*assets, error) {
	home := homeHTML()
	js := appJS()
	hero, err := heroPNG(heroWidth, heroHeight, png.NoCompression)
	if err != nil {
		return nil, fmt.Errorf("generate hero.png: %w", err)
	}
	// The CDN's "WebP" hero is a stand-in: without a WebP encoder in the standard
	// library, it is the same picture at 40% of the size, compressed as PNG
	// (browsers sniff image formats, so it still displays), sent as image/webp.
	small, err := heroPNG(heroWidth*2/5, heroHeight*2/5, png.DefaultCompression)
	if err != nil {
		return nil, fmt.Errorf("generate hero stand-in: %w", err)
	}
	gzHome, err := gzipBytes(home)
	if err != nil {
		return nil, err
	}
	gzJS, err := gzipBytes(js)
	if err != nil {
		return nil, err
	}
	const immutable = "public, max-age=31536000, immutable"
	return &assets{
		home: asset{contentType: "text/html; charset=utf-8", body: home, gz: gzHome,
			cacheControl: "public, max-age=60", etag: HomeETag},
		appJS: asset{contentType: "text/javascript; charset=utf-8", body: js, gz: gzJS,
			cacheControl: immutable, etag: AppJSETag},
		hero: asset{contentType: "image/png", body: hero, cdnType: "image/webp", cdnBody: small,
			cacheControl: immutable, etag: HeroETag},
	}, nil
}

// homeHTML returns the landing page, padded to homeHTMLSize bytes.
func homeHTML() []byte {
	var b strings.Builder
	b.WriteString(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Launchpad: today's launches</title>
<script src="/static/app.js" defer></script>
</head>
<body>
<header><h1>Launchpad</h1><p>The best new products, every day.</p></header>
<img src="/static/hero.png" width="400" height="300" alt="Today's featured launch">
<main>
<section id="feed"><p>Loading today's launches…</p></section>
<form id="login"><input name="user" placeholder="u123"><input name="password" type="password"><button>Log in</button></form>
<form id="signup"><input name="user"><input name="email" type="email"><button>Sign up</button></form>
</main>
<footer>mvpapp, a spike example target</footer>
</body>
</html>
`)
	return pad(b.String(), homeHTMLSize, "<!-- ", " -->\n")
}

// appJS returns an unminified script bundle, padded to appJSSize bytes.
func appJS() []byte {
	var b strings.Builder
	b.WriteString("// app.js: an unminified bundle, as an MVP ships it.\n'use strict';\n")
	for i := 0; b.Len() < appJSSize-1024; i++ {
		fmt.Fprintf(&b, `
// Module %[1]d: renders one kind of card in the feed.
function renderCard%[1]d(post, options) {
  const card = document.createElement('article');
  card.className = 'card card-%[1]d';
  card.dataset.postId = String(post.id);
  const title = document.createElement('h2');
  title.textContent = post.title;
  card.appendChild(title);
  if (options && options.showAuthor) {
    const author = document.createElement('a');
    author.href = '/api/profile/' + post.author_id;
    author.textContent = post.author;
    card.appendChild(author);
  }
  return card;
}
`, i)
	}
	b.WriteString(`
async function loadFeed() {
  const res = await fetch('/api/feed');
  const feed = await res.json();
  const section = document.getElementById('feed');
  section.replaceChildren(...feed.posts.map((p) => renderCard0(p, { showAuthor: true })));
}
document.addEventListener('DOMContentLoaded', loadFeed);
`)
	return pad(b.String(), appJSSize, "/* ", " */\n")
}

// pad fills s up to n bytes with a comment made of open, dots and close.
func pad(s string, n int, open, close string) []byte {
	fill := n - len(s) - len(open) - len(close)
	if fill < 0 {
		return []byte(s)
	}
	return []byte(s + open + strings.Repeat(".", fill) + close)
}

// heroPNG draws the hero picture, a deterministic gradient with rings, at w×h.
func heroPNG(w, h int, level png.CompressionLevel) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			// Work in the 400×300 design space so that sizes share the picture.
			dx, dy := x*heroWidth/w-heroWidth*2/3, y*heroHeight/h-heroHeight/2
			ring := uint8(0)
			if ((dx*dx+dy*dy)/900)%2 == 0 {
				ring = 40
			}
			i := img.PixOffset(x, y)
			img.Pix[i+0] = uint8(255*x/w) ^ ring
			img.Pix[i+1] = uint8(96 + 128*y/h)
			img.Pix[i+2] = uint8(200-150*x/w) + ring
			img.Pix[i+3] = 255
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: level}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return buf.Bytes(), nil
}

// acceptsGzip reports whether the request allows a gzip body.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") || strings.TrimSpace(name) == "*" {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// serveAsset sends a static file. Without the CDN it takes one of the static
// slots and holds it for the body's transfer time; behind the CDN it answers at
// once with cache headers and the optimised variant.
//
// A request whose If-None-Match holds the file's ETag is answered 304 Not
// Modified at once, CDN or not, without a slot: no body is sent, so a
// returning visitor's revalidation costs the frontend nothing.
func (a *App) serveAsset(w http.ResponseWriter, r *http.Request, as *asset) {
	h := w.Header()
	h.Set("ETag", as.etag)
	if etagMatch(r.Header.Get("If-None-Match"), as.etag) {
		a.stats.notModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if a.cfg.CDN {
		body, ctype := as.body, as.contentType
		h.Set("Cache-Control", as.cacheControl)
		h.Set("X-Cache", "HIT")
		h.Set("Via", "1.1 mvpapp-cdn")
		h.Set("Age", strconv.Itoa(int(a.now().Sub(a.started)/time.Second)))
		switch {
		case as.cdnBody != nil:
			body, ctype = as.cdnBody, as.cdnType
			h.Set("Vary", "Accept")
		case as.gz != nil:
			h.Set("Vary", "Accept-Encoding")
			if acceptsGzip(r) {
				body = as.gz
				h.Set("Content-Encoding", "gzip")
			}
		}
		h.Set("Content-Type", ctype)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
		return
	}

	if err := a.takeStaticSlot(r.Context()); err != nil {
		if errors.Is(err, errStaticBusy) {
			a.stats.staticBusy.Add(1)
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		canceled(w, r)
		return
	}
	defer func() { <-a.staticSlots }()
	if sleep(r.Context(), a.cfg.staticCost(len(as.body))) != nil {
		canceled(w, r)
		return
	}
	h.Set("Content-Type", as.contentType)
	h.Set("Content-Length", strconv.Itoa(len(as.body)))
	w.Write(as.body)
}

func (a *App) takeStaticSlot(ctx context.Context) error {
	waitCtx, cancel := context.WithTimeout(ctx, a.cfg.StaticWait)
	defer cancel()
	select {
	case a.staticSlots <- struct{}{}:
		return nil
	case <-waitCtx.Done():
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: no slot within %s (%d slot(s))", errStaticBusy, a.cfg.StaticWait, a.cfg.StaticSlots)
	}
}

// etagMatch reports whether an If-None-Match value matches etag by weak
// comparison (RFC 9110, 13.1.2): "*", or one of its listed tags with W/
// ignored on both sides.
func etagMatch(ifNoneMatch, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for _, tag := range strings.Split(ifNoneMatch, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || (tag != "" && strings.TrimPrefix(tag, "W/") == want) {
			return true
		}
	}
	return false
}
