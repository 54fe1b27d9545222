"""The body of a 公文 (documents.body): the sanitized paragraph structure, plain text and .docx to it, the diff between
versions, R1.5's substantive change and R1.8's classification marks. Pure functions: no database."""
from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhengtong.core.errors import ServiceError
from zhengtong.documents import body
from zhengtong.documents.pdf import Block

# --- sanitize_html -------------------------------------------------------------------------------------------------

def test_sanitize_keeps_paragraphs_and_the_four_heading_levels_of_r2_4():
    html = "<h1>一、总体要求</h1><h2>（一）工作目标</h2><h3>1.基本原则</h3><h4>（1）具体措施</h4><p>正文内容。</p>"
    assert body.sanitize_html(html) == html


def test_sanitize_strips_scripts_styles_attributes_images_and_links():
    dirty = ('<p class="MsoNormal" style="color:red" onclick="x()">第一段<script>alert(1)</script>'
             '<img src=x onerror=alert(2)><a href="javascript:alert(3)">链接文字</a></p>'
             '<style>p{color:red}</style><h1 id="t" style="font-size:40px">一、标题</h1>'
             '<iframe src="https://example.org"></iframe><svg><script>alert(4)</script></svg>')
    clean = body.sanitize_html(dirty)
    assert clean == "<p>第一段链接文字</p><h1>一、标题</h1>"
    for forbidden in ("script", "style", "img", "href", "onclick", "class", "iframe", "svg", "alert"):
        assert forbidden not in clean


def test_sanitize_keeps_strong_em_u_only_as_bare_inline_tags():
    assert body.sanitize_html('<p>一是<strong style="x">加强领导</strong>，<em>二是</em><u>落实</u><span>责任</span></p>') \
        == "<p>一是<strong>加强领导</strong>，<em>二是</em><u>落实</u>责任</p>"


def test_sanitize_escapes_text_that_looks_like_markup():
    clean = body.sanitize_html("<p>&lt;script&gt;alert(1)&lt;/script&gt; 甲 &amp; 乙 &gt; 丙</p>")
    assert clean == "<p>&lt;script&gt;alert(1)&lt;/script&gt; 甲 &amp; 乙 &gt; 丙</p>"
    assert body.html_to_text(clean) == "<script>alert(1)</script> 甲 & 乙 > 丙"


def test_sanitize_turns_other_blocks_into_paragraphs_instead_of_running_them_together():
    clean = body.sanitize_html("<div>第一段</div><div>第二段</div><ul><li>甲</li><li>乙</li></ul>"
                               "<blockquote>引文</blockquote><h5>小标题</h5>第三段<br>第四段")
    assert clean == "<p>第一段</p><p>第二段</p><p>甲</p><p>乙</p><p>引文</p><p>小标题</p><p>第三段</p><p>第四段</p>"


def test_sanitize_flattens_each_table_row_to_one_paragraph():
    clean = body.sanitize_html("<p>附表：</p><table><thead><tr><th>单位</th><th>人数</th></tr></thead>"
                               "<tbody><tr><td>教育局</td><td>12</td></tr><tr><td></td><td></td></tr></tbody></table>")
    assert clean == "<p>附表：</p><p>单位　人数</p><p>教育局　12</p>"


def test_sanitize_joins_source_line_breaks_inside_a_paragraph_and_drops_empty_ones():
    assert body.sanitize_html("<p>\n  第一行\n  接着写\n</p><p>  </p><p><br></p>") == "<p>第一行 接着写</p>"


def test_sanitize_of_bare_text_makes_a_paragraph_per_line():
    assert body.sanitize_html("第一段\n\n第二段\r\n第三段") == "<p>第一段</p><p>第二段</p><p>第三段</p>"


def test_sanitize_drops_control_characters():
    assert body.sanitize_html("<p>甲\x00乙\x07丙\u200b</p>") == "<p>甲乙丙</p>"


@pytest.mark.parametrize("html", [
    "<p>a</p><h1>一、b</h1>",
    "<table><tr><td>甲</td><td>乙</td></tr></table>",
    "<p><strong>粗<br>体</strong></p>",
    "<div>外<p>内</p>尾</div>",
    "<p>&amp;lt; &lt;b&gt;</p>",
    "<h2>（一）<em>a</em> <u>b</u></h2>",
    "<p>全角　空格</p>",
])
def test_sanitize_is_idempotent_on_awkward_inputs(html):
    once = body.sanitize_html(html)
    assert body.sanitize_html(once) == once


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["p", "h1", "h2", "h3", "h4", "div", "li", "strong", "em", "td", "br", "b"]),
                          st.text(alphabet=st.sampled_from(list("一、（）1.公文<>&\"' \n\u3000\tab★秘")), max_size=8)),
                max_size=8))
def test_sanitize_is_idempotent_for_any_mix_of_tags_and_text(parts):
    html = "".join(f"<{tag}>{text}</{tag}>" if i % 2 else f"<{tag}>{text}" for i, (tag, text) in enumerate(parts))
    once = body.sanitize_html(html)
    assert body.sanitize_html(once) == once
    assert body.html_to_text(body.sanitize_html(once)) == body.html_to_text(once)


# --- text, blocks, plain text in ------------------------------------------------------------------------------------

def test_html_to_text_has_one_line_per_paragraph():
    html = "<h1>一、总体要求</h1><p>第一段，<strong>重点</strong>。</p><p>第二段</p>"
    assert body.html_to_text(html) == "一、总体要求\n第一段，重点。\n第二段"


def test_html_to_blocks_gives_the_renderers_blocks_with_levels():
    blocks = body.html_to_blocks("<h1>一、甲</h1><h2>（一）乙</h2><h3>1.丙</h3><h4>（1）丁</h4><p>戊</p>")
    assert blocks == [Block(text="一、甲", level=1), Block(text="（一）乙", level=2), Block(text="1.丙", level=3),
                      Block(text="（1）丁", level=4), Block(text="戊", level=0)]


@pytest.mark.parametrize(("line", "level"), [
    ("一、总体要求", 1), ("十二、其他", 1), ("（一）工作目标", 2), ("(三)半角括号", 2), ("1.基本原则", 3),
    ("12．全角句点", 3), ("（1）具体措施", 4), ("(2)半角", 4),
    ("1.5亿元资金已到位。", 0), ("2024年工作总结", 0), ("一是加强领导", 0), ("各区人民政府：", 0), ("（此页无正文）", 0),
])
def test_heading_level_follows_the_numbering_of_r2_4(line, level):
    assert body.heading_level(line) == level


def test_text_to_html_detects_the_heading_levels_and_escapes():
    text = "各区人民政府：\n\n一、总体要求\n（一）工作目标\n1.基本原则\n（1）具体措施\n  <b>正文</b> & 其他  \n"
    assert body.text_to_html(text) == ("<p>各区人民政府：</p><h1>一、总体要求</h1><h2>（一）工作目标</h2><h3>1.基本原则</h3>"
                                       "<h4>（1）具体措施</h4><p>&lt;b&gt;正文&lt;/b&gt; &amp; 其他</p>")
    assert body.sanitize_html(body.text_to_html(text)) == body.text_to_html(text)


# --- .docx ---------------------------------------------------------------------------------------------------------

def make_docx(build) -> bytes:
    import docx

    document = docx.Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_headings_by_style_and_by_numbering_and_tables_as_rows():
    def build(document):
        document.add_paragraph("各区人民政府：")
        document.add_heading("总体要求", level=1)  # Heading 1 without the number typed: the style decides
        document.add_paragraph("（一）工作目标")  # Normal style with the number typed: the number decides
        document.add_paragraph("1.基本原则")
        document.add_paragraph("（1）具体措施")
        document.add_paragraph("")
        document.add_paragraph("第一行\n第二行")  # a soft line break
        table = document.add_table(rows=2, cols=3)
        table.cell(0, 0).text, table.cell(0, 1).text, table.cell(0, 2).text = "单位", "人数", "备注"
        merged = table.cell(1, 0).merge(table.cell(1, 1))
        merged.text = "教育局"
        table.cell(1, 2).text = "无"
        document.add_paragraph("<script>alert(1)</script>")

    html = body.docx_to_html(make_docx(build))
    assert html == ("<p>各区人民政府：</p><h1>总体要求</h1><h2>（一）工作目标</h2><h3>1.基本原则</h3><h4>（1）具体措施</h4>"
                    "<p>第一行</p><p>第二行</p><p>单位　人数　备注</p><p>教育局　无</p>"
                    "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>")
    assert body.sanitize_html(html) == html


@pytest.mark.parametrize("data", [b"", b"not a word file", b"PK\x03\x04broken zip", b"%PDF-1.7\n..."])
def test_docx_that_is_not_a_docx_is_refused_with_a_message(data):
    with pytest.raises(ServiceError) as error:
        body.docx_to_html(data)
    assert error.value.code == "document.docx_invalid" and "Word 2007" in error.value.message


def test_docx_zip_without_a_word_document_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ServiceError) as error:
        body.docx_to_html(out.getvalue())
    assert error.value.code == "document.docx_invalid"


def test_old_binary_doc_is_told_to_save_as_docx():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "WordDocument".encode("utf-16-le")
    with pytest.raises(ServiceError) as error:
        body.docx_to_html(ole)
    assert error.value.code == "document.docx_invalid" and "另存为 .docx" in error.value.message


def test_password_protected_docx_is_told_to_remove_the_password():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le")
    with pytest.raises(ServiceError) as error:
        body.docx_to_html(ole)
    assert "密码" in error.value.message


def test_docx_zip_bomb_is_refused_without_unpacking():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>" + b" " * (60 * 1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024  # 60 MB of spaces packs to well under 1 MB
    with pytest.raises(ServiceError) as error:
        body.docx_to_html(out.getvalue())
    assert error.value.code == "document.docx_invalid"


# --- versions ------------------------------------------------------------------------------------------------------

def test_diff_marks_changed_characters_inside_a_paragraph():
    diff = body.diff_versions("<p>请于三月底前报送。</p>", "<p>请于四月底前报送材料。</p>")
    assert diff == '<p class="changed">请于<del>三</del><ins>四</ins>月底前报送<ins>材料</ins>。</p>'


def test_diff_marks_added_removed_unchanged_and_restyled_paragraphs():
    old = "<p>第一段不变</p><p>第二段将删除</p><p>一、标题</p>"
    new = "<p>第一段不变</p><h1>一、标题</h1><p>新增的一段</p>"
    diff = body.diff_versions(old, new)
    assert '<p class="same">第一段不变</p>' in diff
    assert '<p class="removed"><del>第二段将删除</del></p>' in diff
    assert '<p class="added"><ins>新增的一段</ins></p>' in diff
    assert '<span class="restyled">［正文→一级标题］</span>一、标题' in diff


def test_diff_of_a_rewritten_paragraph_shows_old_then_new():
    diff = body.diff_versions("<p>甲乙丙丁戊己庚</p>", "<p>子丑寅卯辰巳午</p>")
    assert diff == '<p class="changed"><del>甲乙丙丁戊己庚</del><ins>子丑寅卯辰巳午</ins></p>'


def test_diff_escapes_the_text_of_both_versions():
    diff = body.diff_versions("<p>&lt;b&gt;旧&lt;/b&gt;</p>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;新</p>")
    assert "<script>" not in diff and "<b>" not in diff and "&lt;script&gt;" in diff


def test_diff_of_identical_versions_has_no_marks():
    html = "<h1>一、甲</h1><p>乙</p>"
    assert "<ins>" not in body.diff_versions(html, html) and "<del>" not in body.diff_versions(html, html)


# --- R1.5 ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("old", "new"), [
    ("请于3月底前报送。", "请于 3 月底前报送。"),
    ("请于3月底前报送。", "请于３月底前报送。"),  # full-width digit
    ("甲，乙；丙：丁（戊）！", "甲,乙;丙:丁(戊)!"),  # half-width punctuation
    ("“通知”", '"通知"'),
    ("第一段\n第二段", "第一段\n\n  第二段  "),
    ("报送。", "报送."),
])
def test_r1_5_width_and_whitespace_changes_are_not_substantive(old, new):
    assert not body.is_substantive_change(old, new)


@pytest.mark.parametrize(("old", "new"), [
    ("请于3月底前报送。", "请于4月底前报送。"),
    ("拨付资金100万元", "拨付资金1000万元"),
    ("甲、乙", "甲，乙"),  # 顿号 to comma changes the reading
    ("同意", "不同意"),
    ("报送", "报送。"),
])
def test_r1_5_any_other_character_change_is_substantive(old, new):
    assert body.is_substantive_change(old, new)


# --- R1.8 ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "mark"), [
    ("秘密★1年\n关于某事项的通知", "秘密★1年"),
    ("机密★长期", "机密★长期"),
    ("绝密★", "绝密★"),
    ("000001\n秘密★10年\n特急", "秘密★10年"),
    ("秘密 ★ 1年", "秘密 ★ 1年"),
    ("秘 密 ★ 6 个月", "秘 密 ★ 6 个月"),
    ("机密☆5年", "机密☆5年"),
    ("秘密*3年", "秘密*3年"),
    ("秘密＊3年", "秘密*3年"),  # full-width asterisk, folded
    ("机密★１０年", "机密★10年"),  # full-width digits, folded
    ("绝密\n关于某事项的请示\n市政府：", "绝密"),
    ("　　秘　密　\n正文", "秘 密"),  # full-width spaces around the mark at the head of the document
    ("000001 机密\n关于……", "000001 机密"),
    ("秘密 10年\n关于……", "秘密 10年"),
    ("密级：秘密", "密级:秘密"),
    ("文件标题：某某方案　密级　机密", "密级　机密".replace("　", " ")),
    ("正文第一段。\n附件：1.名单（秘密★1年）", "秘密★1年"),
])
def test_r1_8_classification_marks_are_found(text, mark):
    assert body.find_classification_mark(text) == mark


@pytest.mark.parametrize("text", [
    "依法实行秘密选举。",
    "各单位要严格保守国家秘密和工作秘密。",
    "涉密人员不得使用本平台处理涉密文件。",
    "保护商业秘密和个人隐私。",
    "绝密文件一律不得在本平台上传。",
    "机密性、完整性和可用性是信息安全的三要素。",
    "密级：内部",
    "密级：非密",
    "内部★1年",
    "本文件不涉及秘密事项，秘密程度为无。",
    "这是一个秘密\n后面还有正文",
    "关于做好2024年保密工作的通知\n各单位：\n请做好定密工作，秘密期限届满的要及时解密。",
    "",
])
def test_r1_8_running_text_about_secrets_is_not_a_mark(text):
    assert body.find_classification_mark(text) is None


def test_r1_8_the_first_mark_in_the_text_is_returned():
    assert body.find_classification_mark("正文\n密级：机密\n秘密★1年") == "密级:机密"


# --- the partials --------------------------------------------------------------------------------------------------

def test_diff_partial_shows_both_versions_the_legend_and_the_escaped_diff():
    from datetime import datetime
    from types import SimpleNamespace

    from django.template.loader import render_to_string

    def version(number, name, step, hour):
        return SimpleNamespace(number=number, author=SimpleNamespace(person=SimpleNamespace(name=name)), step=step,
                               created_at=datetime(2026, 3, 5, hour, 7))

    diff = body.diff_versions("<p>请于三月底前报送。</p>", "<p>请于四月底前报送&lt;材料&gt;。</p>")
    html = render_to_string("documents/_diff.html", {"diff": diff, "old": version(1, "王科员", "拟稿", 9),
                                                     "new": version(2, "陈志远", "签发", 15)})
    assert "原：第 1 版，王科员（拟稿），2026年3月5日 09:07" in html
    assert "新：第 2 版，陈志远（签发），2026年3月5日 15:07" in html
    assert "<ins>插入的文字</ins>" in html and "<del>删除的文字</del>" in html
    assert "请于<del>三</del><ins>四</ins>月底前报送<ins>&lt;材料&gt;</ins>。" in html
    assert "{#" not in html and "comment" not in html


def test_editor_partial_escapes_the_body_into_its_textarea():
    from django.template.loader import render_to_string

    html = render_to_string("documents/_editor.html", {"field_name": "body_html",
                                                       "body_html": "</textarea><script>alert(1)</script>"})
    assert '<textarea name="body_html"' in html and "<script>" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;" in html
    assert 'aria-label="一级标题"' in html and 'role="toolbar"' in html and "{#" not in html
