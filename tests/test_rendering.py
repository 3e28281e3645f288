from tickets.rendering import render_markdown


def test_it_renders_markdown_emphasis_lists_and_links():
    html = render_markdown("**bold** and *soft*\n\n- one\n- two\n\n[docs](https://example.com)")

    assert "<strong>bold</strong>" in html
    assert "<em>soft</em>" in html
    assert "<li>one</li>" in html
    assert 'href="https://example.com"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_it_drops_script_tags_and_their_content():
    html = render_markdown("hello <script>alert('x')</script> world")

    assert "<script" not in html
    assert "alert" not in html
    assert "hello" in html and "world" in html


def test_it_drops_event_handler_attributes():
    html = render_markdown(
        '<a href="https://example.com" onclick="steal()">x</a> <b onmouseover="y()">b</b>'
    )

    assert "onclick" not in html
    assert "onmouseover" not in html
    assert "steal" not in html


def test_it_drops_javascript_urls():
    html = render_markdown("[click](javascript:alert(1)) <a href='JaVaScRiPt:alert(2)'>y</a>")

    assert "javascript" not in html.lower()


def test_it_escapes_html_inside_code_blocks():
    html = render_markdown("```\n<script>alert(1)</script>\n```\n\nand `<b>inline</b>`")

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<code>&lt;b&gt;inline&lt;/b&gt;</code>" in html
    assert "<script>" not in html


def test_it_drops_images_and_styles():
    html = render_markdown('![x](https://evil.example/track.png) <p style="position:fixed">p</p>')

    assert "<img" not in html
    assert "style=" not in html


def test_it_keeps_single_line_breaks():
    assert "<br" in render_markdown("line one\nline two")
