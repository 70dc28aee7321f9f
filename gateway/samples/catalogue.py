"""The project's own sample fapiao, as data. ``python -m gateway.samples.build`` writes them.

One fictitious exporter in the Lingang free-trade zone (USCC ``91310115MA1FL8K22H``) sells to
buyers in Singapore and Hong Kong. Buyer names and English addresses are meant for partner
directories. Invoice numbers follow the 数电 rule (year ``26``, region ``31`` 上海).
"""

from __future__ import annotations

from gateway.samples.build_ofd import ofd_package
from gateway.samples.writers import (
    SELLER2_NAME,
    SELLER2_USCC,
    SampleInvoice,
    SampleLine,
    einvoice_xml,
    platform_json,
)

EXPORT_LABELS = [
    ("企业行业性质类标签", "20", "生产型出口企业"),
    ("特定征税方式标签", "02", "零税率"),
]

EXPORT_ZERO_RATE = SampleInvoice(
    number="26312000000000000101",
    issued="2026-09-14 10:21:33",
    labels=EXPORT_LABELS,
    lines=[
        SampleLine(
            "*金属制品*精密齿轮",
            "22200.00",
            "0%",
            "0.00",
            "22200.00",
            spec="PG-40",
            unit="个",
            quantity="1200",
            price="18.50",
        ),
        SampleLine(
            "*通用设备*伺服电机",
            "34400.00",
            "0%",
            "0.00",
            "34400.00",
            spec="SM-750W",
            unit="台",
            quantity="40",
            price="860.00",
            code="1090124990000000000",
        ),
    ],
    net="56600.00",
    tax="0.00",
    gross="56600.00",
    words="伍万陆仟陆佰圆整",
    remark="出口合同号：LC-2026-0915；报关单号：223120260000012345；汇率：1 USD = 7.1000 CNY",
)

HARBOUR_GATE_NAME = "Harbour Gate Logistics Limited"
HARBOUR_GATE_ADDR = "Unit 1203, 12/F, Tower 2, Harbour Centre, 25 Harbour Road, Wan Chai, Hong Kong"

MULTI_RATE_DISCOUNT = SampleInvoice(
    number="26312000000000000102",
    issued="2026-09-20 14:05:00",
    lines=[
        SampleLine(
            "*通用设备*液压泵",
            "60000.00",
            "0.13",
            "7800.00",
            "67800.00",
            spec="HP-200",
            unit="台",
            quantity="5",
            price="12000.00",
        ),
        SampleLine("*通用设备*液压泵", "-3000.00", "0.13", "-390.00", "-3390.00"),
        SampleLine(
            "*信息技术服务*设备远程运维服务",
            "18000.00",
            "0.06",
            "1080.00",
            "19080.00",
            unit="月",
            quantity="12",
            price="1500.00",
            code="3040201990000000000",
        ),
    ],
    net="75000.00",
    tax="8490.00",
    gross="83490.00",
    words="捌万叁仟肆佰玖拾圆整",
    remark="合同号：HG-2026-031",
    buyer_name=HARBOUR_GATE_NAME,
    buyer_addr=HARBOUR_GATE_ADDR,
    buyer_tel="+852 2000 0000",
)

RED_LETTER = SampleInvoice(
    number="26312000000000000131",
    issued="2026-10-08 09:30:12",
    blue="N",
    lines=[
        SampleLine(
            "*通用设备*液压泵",
            "-12000.00",
            "0.13",
            "-1560.00",
            "-13560.00",
            spec="HP-200",
            unit="台",
            quantity="-1",
            price="12000.00",
        ),
    ],
    net="-12000.00",
    tax="-1560.00",
    gross="-13560.00",
    words="（负数）壹万叁仟伍佰陆拾圆整",
    red_original="26312000000000000102",
    red_confirmation="31012026100800000017",
    remark="被红冲蓝字数电发票号码：26312000000000000102 红字发票信息确认单编号：31012026100800000017",
    buyer_name=HARBOUR_GATE_NAME,
    buyer_addr=HARBOUR_GATE_ADDR,
    buyer_tel="+852 2000 0000",
)

EXEMPT = SampleInvoice(
    number="26312000000000000145",
    issued="2026-10-15 16:45:00",
    labels=[("特定征税方式标签", "04", "免税")],
    buyer_name="Merlion Research Institute Ltd.",
    buyer_addr="1 Fusionopolis Way, #08-10, Singapore 138632",
    lines=[
        SampleLine(
            "*研发和技术服务*技术转让服务",
            "250000.00",
            "免税",
            "***",
            "250000.00",
            unit="项",
            quantity="1",
            price="250000.00",
            code="3040105000000000000",
        ),
    ],
    net="250000.00",
    tax="0.00",
    gross="250000.00",
    words="贰拾伍万圆整",
    remark="跨境应税行为免税备案：技术转让",
)

PLATFORM_EXPORT = SampleInvoice(
    number="26312000000000000158",
    issued="2026-11-02 11:12:13",
    seller_id=SELLER2_USCC,
    seller_name=SELLER2_NAME,
    seller_addr="上海市浦东新区临港新片区海港大道1号",
    buyer_name="Straits Marine Supplies Pte. Ltd.",
    buyer_addr="21 Tuas South Avenue 7, Singapore 637480",
    lines=[
        SampleLine(
            "*通用设备*船用截止阀",
            "28650.00",
            "0",
            "0",
            "28650.00",
            spec="DN50",
            unit="个",
            quantity="300",
            price="95.50",
        ),
        SampleLine(
            "*橡胶制品*阀门密封件",
            "2450.00",
            "0",
            "0",
            "2450.00",
            spec="NBR-50",
            unit="个",
            quantity="200",
            price="12.25",
            code="1070601020000000000",
        ),
    ],
    net="31100.00",
    tax="0.00",
    gross="31100.00",
    remark="出口合同号：SMS-2026-118",
)

OFD_SERVICES = SampleInvoice(
    number="26312000000000000163",
    issued="2026-11-10 09:00:00",
    lines=[
        SampleLine(
            "*现代服务*技术咨询服务",
            "40000.00",
            "6%",
            "2400.00",
            unit="项",
            quantity="1",
            price="40000.00",
        ),
        SampleLine(
            "*现代服务*设备操作培训服务",
            "7000.00",
            "6%",
            "420.00",
            unit="次",
            quantity="2",
            price="3500.00",
        ),
    ],
    net="47000.00",
    tax="2820.00",
    gross="49820.00",
    remark="项目：LC-2026-0915 安装调试",
)


def all_samples() -> dict[str, bytes]:
    """File name → bytes of every shipped sample."""
    return {
        "export-zero-rate.xml": einvoice_xml(EXPORT_ZERO_RATE),
        "multi-rate-discount.xml": einvoice_xml(MULTI_RATE_DISCOUNT),
        "red-letter.xml": einvoice_xml(RED_LETTER),
        "exempt-services.xml": einvoice_xml(EXEMPT),
        "platform-export.json": platform_json(PLATFORM_EXPORT, export_policy="01"),
        "services.ofd": ofd_package(OFD_SERVICES),
    }
