"""Sample documents for the layout tests, the screenshots in docs/ and the benchmark."""
from __future__ import annotations

import datetime as dt

from zhengtong.documents.pdf import Block, PdfDocument

PARAGRAPH = ("为深入贯彻落实国务院关于加快推进政务服务标准化、规范化、便利化的部署要求，进一步优化政务服务，提升行政效能，"
             "推动“高效办成一件事”常态化，经市政府同意，现就有关事项通知如下。")


def notice(pages: int = 2, **overrides) -> PdfDocument:
    body = [Block(PARAGRAPH), Block("一、总体要求", 1),
            Block("坚持以人民为中心的发展思想，聚焦企业和群众办事的难点堵点，以数字化改革为牵引，推动政务服务从“能办”向"
                  "“好办、易办”转变。到2026年底，全市政务服务事项网上可办率达到98%以上，平均办理时限压缩50%。"),
            Block("（一）健全工作机制。各县区、各部门要建立主要负责同志牵头抓总、分管负责同志具体负责、业务处室协同推进"
                  "的工作机制，明确责任分工，细化任务清单，确保各项工作落到实处。", 2),
            Block("（二）强化数据共享。依托市一体化政务服务平台，推动人口、法人、电子证照等基础数据按需共享，做到“一次"
                  "采集、多方复用”，原则上不得要求群众重复提交已由政府部门核发的材料。", 2),
            Block("二、重点任务", 1),
            Block("1.推进集成办理。围绕企业开办、不动产登记、新生儿出生、退休等高频事项，梳理办事场景，实行一表申请、"
                  "一套材料、一窗受理、一网通办。", 3),
            Block("（1）梳理事项清单。各部门于2026年3月31日前完成本部门事项梳理，报市数据局汇总。", 4)]
    # pages 1 and 2 give two pages; each further page takes about six more paragraphs
    extra = [Block("三、保障措施", 1)] + [Block(PARAGRAPH.replace("现就有关事项通知如下。", f"第{k + 1}项措施落实到位。"))
                                         for k in range((pages - 3) * 6 + 2)]
    values = dict(
        issuer_marks=["示范市人民政府文件"], doc_number="示政发〔2026〕3号",
        title="示范市人民政府关于进一步优化政务服务提升行政效能推动高效办成一件事的通知",
        main_recipients="各县区人民政府，市政府各部门、各直属机构", body=body + (extra if pages > 2 else []),
        attachment_notes=["示范市高效办成一件事重点事项清单", "示范市政务服务事项办理时限压缩目标"],
        signature=["示范市人民政府"], date=dt.date(2026, 1, 5), note="（此件公开发布）",
        copy_to=["市委各部门", "市人大常委会办公室", "市政协办公室", "市中级法院", "市检察院", "示范军分区"],
        printing_unit="示范市人民政府办公室", printing_date=dt.date(2026, 1, 5), urgency="特急")
    values.update(overrides)
    return PdfDocument(**values)


def office_notice() -> PdfDocument:
    """A realistic two-page 下行文 of 示范市人民政府办公室 (the example in docs/screenshots)."""
    body = [
        Block("为贯彻落实《国务院办公厅关于依托全国一体化政务服务平台推进“高效办成一件事”的指导意见》，进一步提升"
              "政务服务效能，经市人民政府同意，现将《示范市2026年度“高效办成一件事”重点事项工作方案》印发给你们，"
              "请结合实际认真组织实施，并就有关事项通知如下。"),
        Block("一、提高思想认识", 1),
        Block("“高效办成一件事”是优化营商环境、便利企业和群众办事的重要举措。各县区、各部门要把这项工作摆在突出位置，"
              "主要负责同志亲自研究部署，分管负责同志靠前协调推动，确保2026年底前13个重点事项全部落地见效。"),
        Block("二、抓好任务落实", 1),
        Block("（一）梳理办事流程。牵头部门要会同配合部门逐项梳理事项清单、办理环节和申请材料，编制办事指南，"
              "于2026年3月31日前报市数据局审核。", 2),
        Block("三、加强督促检查", 1),
        Block("市政府办公室将把推进情况纳入年度绩效考核，定期通报工作进展。工作中遇到的重要问题，请及时报告。"),
    ]
    return PdfDocument(
        copy_number="000128", urgency="加急", issuer_marks=["示范市人民政府办公室文件"],
        doc_number="示政办发〔2026〕12号",
        title="示范市人民政府办公室关于印发示范市2026年度“高效办成一件事”重点事项工作方案的通知",
        main_recipients="各县区人民政府，市政府各部门、各直属机构", body=body,
        attachment_notes=["2026年度“高效办成一件事”重点事项工作方案", "重点事项牵头部门及配合部门名单"],
        signature=["示范市人民政府办公室"], date=dt.date(2026, 11, 25), note="（此件公开发布）",
        copy_to=["市委办公室", "市人大常委会办公室", "市政协办公室", "市纪委监委", "市中级法院", "市检察院"],
        printing_unit="示范市人民政府办公室", printing_date=dt.date(2026, 11, 26))


def office_letter() -> PdfDocument:
    """A one-page 函 in the 信函格式 (§10.1)."""
    return PdfDocument(
        format="letter", issuer_marks=["示范市人民政府办公室"], doc_number="示政办函〔2026〕45号",
        title="示范市人民政府办公室关于商请支持政务服务数据共享工作的函",
        main_recipients="省数据局",
        body=[Block("为推进“高效办成一件事”重点事项落地，我市拟依托省一体化政务服务平台共享户籍、婚姻登记、社会保障等"
                    "基础数据。为保障工作顺利开展，现商请贵局在数据目录编制、接口开通和安全评估等方面给予支持。"),
              Block("联系人：市数据局张明，联系电话：0000-12345678。"),
              Block("特此函商，请予支持。")],
        signature=["示范市人民政府办公室"], date=dt.date(2026, 11, 25),
        copy_to=["市数据局"])
