"""Sample documents for the layout tests and the screenshots in docs/."""
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
    extra = [Block("三、保障措施", 1)] + [Block(PARAGRAPH.replace("现就有关事项通知如下。", f"第{k + 1}项措施落实到位。"))
                                         for k in range(max(0, (pages - 2) * 6 + 1))]
    values = dict(
        issuer_marks=["示范市人民政府文件"], doc_number="示政发〔2026〕3号",
        title="示范市人民政府关于进一步优化政务服务提升行政效能推动高效办成一件事的通知",
        main_recipients="各县区人民政府，市政府各部门、各直属机构", body=body + (extra if pages > 1 else []),
        attachment_notes=["示范市高效办成一件事重点事项清单", "示范市政务服务事项办理时限压缩目标"],
        signature=["示范市人民政府"], date=dt.date(2026, 1, 5), note="（此件公开发布）",
        copy_to=["市委各部门", "市人大常委会办公室", "市政协办公室", "市中级法院", "市检察院", "示范军分区"],
        printing_unit="示范市人民政府办公室", printing_date=dt.date(2026, 1, 5), urgency="特急")
    values.update(overrides)
    return PdfDocument(**values)
