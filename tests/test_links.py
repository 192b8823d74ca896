"""Static discovery of the resources a page references."""

from collectors.static.links import css_references, html_references, srcset_urls

BASE = "http://example.test/reports/page.html"


def test_every_kind_of_html_reference_is_found() -> None:
    html = """<html><head>
      <link rel="stylesheet" href="../css/site.css"><link rel="icon" href="/favicon.png">
      <link rel="alternate" href="/feed.xml">
      <style>body { background: url('/img/bg.jpg') } @import "print.css";</style>
      <script src="/js/app.js"></script></head><body>
      <img src="a.jpg" srcset="a-640.jpg 640w, a-960.jpg 960w">
      <picture><source srcset="/p.webp 1x, /p2.webp 2x"></picture>
      <div style="background-image:url(&quot;/img/quote.jpg&quot;)"></div>
      <video poster="/poster.jpg"><source src="/media/clip.mp4" type="video/mp4"></video>
      <audio src="//cdn.example.test/sound.m4a"></audio>
      <img src="data:image/png;base64,AAAA"><a href="/not-a-resource.html">x</a>
      <img src="a.jpg#frag"></body></html>"""
    found = html_references(html, BASE)
    assert found == [
        "http://example.test/css/site.css", "http://example.test/favicon.png",
        "http://example.test/reports/print.css", "http://example.test/img/bg.jpg",
        "http://example.test/js/app.js", "http://example.test/reports/a.jpg",
        "http://example.test/reports/a-640.jpg", "http://example.test/reports/a-960.jpg",
        "http://example.test/p.webp", "http://example.test/p2.webp",
        "http://example.test/img/quote.jpg", "http://example.test/poster.jpg",
        "http://example.test/media/clip.mp4", "http://cdn.example.test/sound.m4a"]


def test_css_urls_and_imports_resolve_against_the_stylesheet() -> None:
    css = """@import url("theme.css"); @import 'print.css';
             .a { background: url(../img/x.png) } .b { background: url( "y.jpg" ) }
             .c { background: url(data:image/gif;base64,R0lG) }"""
    assert css_references(css, "http://h.test/css/site.css") == [
        "http://h.test/css/print.css", "http://h.test/css/theme.css",
        "http://h.test/img/x.png", "http://h.test/css/y.jpg"]


def test_srcset_with_density_and_width_descriptors() -> None:
    assert srcset_urls("a.jpg 1x, b.jpg 2x") == ["a.jpg", "b.jpg"]
    assert srcset_urls("/x,y.jpg 640w, /z.jpg 1280w") == ["/x,y.jpg", "/z.jpg"]


def test_base_href_and_hostile_markup() -> None:
    html = '<base href="http://other.test/dir/"><img src="i.jpg"><img src="javascript:alert(1)">'
    assert html_references(html, BASE) == ["http://other.test/dir/i.jpg"]
    broken = html_references("<img src='ok.jpg'><p <<<>>><<!-- <img src=", BASE)
    assert broken == ["http://example.test/reports/ok.jpg"]


def test_non_ascii_paths_are_sent_percent_encoded() -> None:
    from collectors.network.addresses import parse_target

    target = parse_target("http://example.test/تقرير/صورة.jpg?q=حلب&x=%20")
    assert target.path_and_query.isascii()
    assert target.path_and_query.startswith("/%D8%AA%D9%82")
    assert target.path_and_query.endswith("&x=%20")
