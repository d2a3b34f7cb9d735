"""A synthetic city: N residents of Shenyang as registry CSV rows, deterministic for a seed.

Public API
----------
- ``iter_city(people, seed)`` yields the rows (tuples of 15 strings, in ``HEADER`` order),
  one at a time, without ever holding the city in memory.
- ``write_city(out, people, seed, *, workers=1)`` writes the CSV (header + rows, UTF-8,
  ``\\n`` line ends) to a path or a binary file; returns the number of rows. ``workers``
  spreads the work over processes; the bytes written do not depend on it.
- ``stations()`` lists the (district code, station code, station name) the city uses.
- ``HEADER``, ``REFERENCE_DATE``, ``RELATIONS``, ``ETHNICITIES``.

The same seed and N give a byte-identical file, on any number of workers. Randomness comes
from numpy's PCG64 (``Generator.random`` only, which maps the bit stream — fixed by numpy's
compatibility policy — straight to doubles) and, for the few rows drawn one at a time, from
Python's ``random`` seeded with a string.

Speed: each chunk of people is drawn as numpy arrays (households, then members as a
household × slot grid, weighted draws as one ``searchsorted`` over shifted cumulative
tables, ID counters by a stable sort); Python only joins each row's strings: ~3.5 µs of CPU
a row, a quarter of it that join. Measured on the 2-core machine while other jobs ran (load
~3): 10M rows (1.9 GB) in 40 s with 2 workers, 55 s with 1; 1M in 5.6 s. Memory is ~300 MB
per process whatever N (one chunk's arrays and rows, four lanes of ID counters).

Everything here is invented. No real person's data is used; only frequency tables are
modelled on published statistics, and every figure below is an approximation chosen to look
plausible, not a measurement.

How the city is drawn, and what the figures rest on
----------------------------------------------------
* The city is a list of households. A household gets a district (shares after Shenyang's
  2020 census, registered population, rounded), a station of that district (the real
  sub-district and town names, used as station names ``<district><place>派出所``; codes
  ``<district>-Snn``), an address (``沈阳市和平区南京南街123号2单元501``; villages
  ``沈阳市法库县叶茂台镇王家屯村25号`` in the counties) and a household type:
  living alone, couple, couple + 1 or 2 children, single parent, three generations (with
  the head's 父/母), grandparents with a grandchild (隔代), couple + child + grandchild; and
  ~3 % of people in collective households (集体户: students, workers; 5–60 members whose
  relation is 其他, as GB/T 4761 code 99). Family households have 1–6 members; ages within
  a household are consistent (spouses a few years apart, mothers 20–42 at a child's birth,
  parents of the head 20–40 years older).
* Age pyramid: head ages are drawn per type from a target pyramid of a north-eastern city
  in 2026 (births per surviving cohort: few before 1935, the 1950s, the 1959–61 dip, the
  1962–75 baby-boom bulge, the late-1980s echo, then an ever-thinner base — the north-east
  has had China's lowest fertility since the 1990s). The resulting marginal: ~8–10 %
  aged 0–14, ~28–32 % aged 60+ (Shenyang 2020: 10.4 % and 25.5 %, six years younger).
  Births run from 1920 to ``REFERENCE_DATE`` (2026-11-01); sex ratio ~1.00 (boys 53 % at
  birth, more widows than widowers among the old).
* Ethnicity: Liaoning's mix (2020 census, rounded): 汉族 ~84 %, 满族 ~12.7 %, 蒙古族 1.4 %,
  回族 0.6 %, 朝鲜族 0.6 %, 锡伯族 0.3 % and a few others, with local accents — the Korean
  community of 和平区 (西塔), 苏家屯 and 于洪, the Xibe of 沈北新区 (兴隆台), Mongols in 康平
  and 法库 on the Inner Mongolian border, Hui in 沈河/大东. A few Uyghur residents bear
  transliterated names with a middle dot (``艾力·买买提``, at most 6 characters, as the
  name query accepts). Spouses share the head's ethnicity 70 % of the time; a child of a
  mixed couple mostly takes the minority's.
* Surnames: the national frequency table of the Ministry of Public Security's name
  reports / 2020 census (top ~200 with their shares, e.g. 王 7.1 %, 李 7.0 %, 张 6.7 %),
  reweighted for the north-east (王 李 张 刘 赵 孙 于 姜 崔 … more; 陈 黄 林 罗 曾 覃 …
  fewer), plus a tail of rarer 百家姓 surnames and a few compound ones (欧阳 司马 上官
  诸葛 慕容 …). Surnames that pinyin tools misread (曾 单 解 仇 区 朴 覃 查 万俟 尉迟) are
  there at small realistic shares. Manchu, Mongol, Hui, Xibe and Zhuang residents draw from
  a mix of the Han table and their own (关 佟 那 富 … ; 白 包 宝 … ; 马 …); Korean
  residents from the Korean table (金 李 朴 崔 郑 …) with Korean-style given names; a
  quarter of Mongols bear a Mongolian name without surname (巴特尔, 其其格). Children take
  the father's surname.
* Given names: one or two characters, per gender and birth cohort (…1954, 1955–69,
  1970–84, 1985–2004, 2005…). Single-character names are 40 % of the oldest cohort and
  fall to ~6 % for the youngest (two characters ≈ 80 % after 1980). Each cohort has its
  whole names (建国 国庆 淑珍 桂兰 … 海涛 丽丽 … 子涵 梓萱 浩然 一诺) and its character
  tables, whose products — plus a tail with rarer characters — give the rest, so 张伟 王芳
  李娜 collide by the thousand and most rare names are unique. ~2 % have former names.
* ID numbers (GB 11643): region = the district code for people born here, or a real county
  code of another Liaoning city or another province for the ~25 % born elsewhere (more
  among working ages; Uyghurs mostly from Xinjiang, many Koreans from 延边); the birth date;
  a sequence whose last digit is odd for men; the MOD 11-2 check character. Numbers are
  unique in a file by construction: a counter per (region, date, sex) picks a slot from a
  fixed permutation of the 495 sequence slots (sequences 990–999 are never used, so
  hand-made demo and test numbers cannot collide). The work is split into chunks of
  ``CHUNK_PEOPLE`` people; chunk i uses lane ``i % LANES`` and lane j owns slots ≡ j mod
  LANES, so workers need not share counters. If a (region, date, sex) cell is full the
  person is recorded as born in another region instead (never at 10M people).
* Status: ~97.5 % registered; ~1 % deceased (mostly the old); ~1 % moved out (mostly
  working ages). Phones: most people aged 16+, fewer of the very old, no children.
  Phones are in the 154 block, which, as far as the published allocations show, has never
  been assigned to an operator (it was skipped because 154 sounds like 要吾死): a synthetic
  number should not reach a real subscriber, and it still passes the ``1[3-9]`` mobile
  check. (The 170/171 virtual-operator blocks were the alternative; they are in use.)
"""

from __future__ import annotations

import bisect
import datetime as dt
import io
import itertools
import multiprocessing
import os
import queue as queue_module
import random
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import IO

import numpy as np

HEADER = (
    "id_number",
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "household_number",
    "household_kind",
    "relation",
    "address",
    "district_code",
    "station_code",
    "station_name",
    "phone",
    "status",
    "former_names",
)

# "Today" for the city: nobody is born after it. Fixed, so a seed always gives the same file.
REFERENCE_DATE = dt.date(2026, 11, 1)
FIRST_BIRTH = dt.date(1920, 1, 1)  # day index 0
# Chunk size and lanes are part of what a seed means: changing them changes the file.
CHUNK_PEOPLE = 100_000
LANES = 4
SEQ_SLOTS = 495  # per sex: sequences 0..989; 990..999 are left to hand-made numbers
MIDDLE_DOT = "\u00b7"
RELATIONS = ("户主", "配偶", "子", "女", "父", "母", "孙子", "孙女", "其他")
STATUSES = ("registered", "moved_out", "deceased")
PHONE_PREFIX = "154"
_BLOCK_ROWS = 4096  # rows joined per write: bounded memory whatever N is

# --- reference tables -------------------------------------------------------------------------

# (code, name, share of the registered population in ‰, streets for urban addresses,
#  station places). Shares round Shenyang's 2020 census per district.
_DISTRICTS: tuple[tuple[str, str, float, str, str], ...] = (
    (
        "210102",
        "和平区",
        117,
        "南京南街 南京北街 中华路 太原南街 太原北街 三好街 民主路 北二马路 南五马路 "
        "十一纬路 和平北大街 中山路 胜利南街 长白南路 文体路 砂山街",
        "南市场 北市场 太原街 西塔 集贤 新华 马路湾 八经 砂山 南湖 长白 浑河湾 沈阳站 太原南街",
    ),
    (
        "210103",
        "沈河区",
        83,
        "青年大街 北京街 小西路 正阳街 风雨坛街 文艺路 东顺城街 北站路 团结路 热闹路 "
        "市府大路 奉天街 惠工街 大南街 五爱街 北顺城路",
        "皇城 朱剪炉 大西 滨河 南塔 风雨坛 大南 山东庙 泉园 万莲 北站 新北站 马官桥 五里河",
    ),
    (
        "210104",
        "大东区",
        94,
        "东望街 小什字街 大东路 北海街 长安路 东北大马路 榆林大街 津桥路 新东一街 "
        "东陵路 小河沿路 望花南街 东塔街",
        "大北 万泉 津桥 二台子 小北 东站 新东 上园 文官 前进 东塔 辽沈 长安 洮昌",
    ),
    (
        "210105",
        "皇姑区",
        102,
        "黄河南大街 崇山中路 华山路 岐山中路 昆山西路 鸭绿江街 塔湾街 长江街 陵东街 "
        "泰山路 宁山中路 珠江街 北陵大街",
        "三台子 北塔 明廉 黄河 华山 辽河 太平 塔湾 陵东 寿泉 北陵 新乐 昆山",
    ),
    (
        "210106",
        "铁西区",
        138,
        "兴华北街 北二路 建设大路 重工街 卫工街 保工街 云峰街 沈辽路 南十一路 北一路 "
        "兴顺街 肇工街 景星街 开发大路",
        "兴华 工人村 兴工 重工 笃工 启工 霁虹 凌空 保工 卫工 艳粉 七路 贵和 翟家 大潘 "
        "彰驿 高花 大青 于台 昆明湖",
    ),
    (
        "210111",
        "苏家屯区",
        47,
        "枫杨路 雪松路 海棠街 迎春街 银杏路 玫瑰街 香杨路 金钱松东路 白松路 中央大街",
        "民主 湖西 解放 中兴 迎春 临湖 枫杨 陈相 永乐 佟沟 王纲 十里河 沙河",
    ),
    (
        "210112",
        "浑南区",
        88,
        "浑南中路 智慧大街 创新路 全运路 沈营路 天赐街 世纪路 新隆街 金卡路 文溯街 营盘街 浑南东路",
        "五三 东湖 浑河站 李相 白塔 桃仙 深井子 高坎 祝家 王滨 满堂 创新路 富民 奥体",
    ),
    (
        "210113",
        "沈北新区",
        61,
        "道义南大街 蒲河路 辉山大街 正良五路 虎石台南大街 蒲昌路 沈北路 盛京大街 黑龙江街",
        "道义 虎石台 新城子 兴隆台 财落 蒲河 清水台 黄家 尹家 马刚 石佛寺 辉山",
    ),
    (
        "210114",
        "于洪区",
        92,
        "黄海路 怒江北街 西江街 沙岭路 洪湖北街 赤山路 于洪大街 吉力湖街 鸭绿江北街",
        "迎宾路 南阳湖 沙岭 城东湖 马三家 平罗 造化 大兴 老边 光辉 杨士 于洪 阳光 陵西",
    ),
    (
        "210115",
        "辽中区",
        47,
        "蒲西街 辽中大街 茨榆坨路 友谊街 正阳街 新华街",
        "蒲东 蒲西 茨榆坨 冷子堡 刘二堡 新民屯 满都户 杨士岗 肖寨门 于家房 朱家房 老观坨 城郊",
    ),
    (
        "210123",
        "康平县",
        30,
        "康平大街 胜利街 顺山路 东关大街",
        "胜利 东关 张强 方家屯 郝官屯 小城子 二牛所口 北三家子 柳树屯 两家子 海洲窝堡 沙金台",
    ),
    (
        "210124",
        "法库县",
        38,
        "法库大街 新华路 民主路 政通街",
        "法库 大孤家子 三面船 秀水河子 叶茂台 登仕堡子 丁家房 孟家 四家子 双台子 五台子 "
        "依牛堡子 卧牛石",
    ),
    (
        "210181",
        "新民市",
        62,
        "新民大街 东城路 胜利街 辽河大街 西城街",
        "辽滨 西城 东城 新柳 新农 大柳屯 公主屯 兴隆 大民屯 胡台 法哈牛 前当堡 罗家房 "
        "梁山 张家屯 金五台子 姚堡 高台子 三道岗子 周坨子",
    ),
)
# Share of a district's households at a village address (the rest live in town streets).
_VILLAGE_SHARE = {
    "210111": 0.15,
    "210112": 0.12,
    "210113": 0.2,
    "210114": 0.15,
    "210115": 0.5,
    "210123": 0.55,
    "210124": 0.55,
    "210181": 0.5,
}
_VILLAGE_SUFFIXES = ("屯", "村", "堡", "窝堡", "台", "沟", "岗", "房", "甸", "坨")

ETHNICITIES = (
    "汉族",
    "满族",
    "蒙古族",
    "回族",
    "朝鲜族",
    "锡伯族",
    "维吾尔族",
    "壮族",
    "土家族",
    "苗族",
    "达斡尔族",
)
_HAN, _MANCHU, _MONGOL, _HUI, _KOREAN, _XIBE, _UYGHUR, _ZHUANG = range(8)
# Liaoning, per mille (the remainder is 汉族).
_ETHNIC_BASE = (0, 127, 14, 6, 6, 3, 0.8, 0.8, 0.5, 0.4, 0.3)
# Local accents: district -> {ethnicity index: multiplier}.
_ETHNIC_ACCENTS = {
    "210102": {_KOREAN: 4.0},
    "210103": {_HUI: 2.0},
    "210104": {_HUI: 1.5},
    "210111": {_KOREAN: 3.0},
    "210112": {_KOREAN: 1.5},
    "210113": {_XIBE: 8.0},
    "210114": {_KOREAN: 2.0},
    "210123": {_MONGOL: 5.0},
    "210124": {_MONGOL: 2.5},
    "210181": {_MANCHU: 1.3},
}

# National surname shares in % (MPS name reports / 2020 census, rounded), then
# north-eastern multipliers. Tricky readings included: 曾 zeng, 单 shan, 解 xie, 仇 qiu,
# 区 ou, 朴 piao, 覃 qin, 查 zha.
_SURNAMES_NATIONAL = """
王7.12 李7.00 张6.74 刘5.10 陈4.61 杨3.22 黄2.45 赵2.19 吴2.00 周1.95 徐1.45 孙1.38 马1.29
朱1.26 胡1.16 郭1.15 何1.14 林1.02 高1.01 罗0.95 郑0.86 梁0.82 谢0.74 宋0.72 唐0.71 许0.66
韩0.64 邓0.63 冯0.62 曹0.61 彭0.59 曾0.57 肖0.56 田0.54 董0.53 潘0.52 袁0.51 蔡0.50 蒋0.49
余0.48 于0.48 杜0.47 叶0.46 程0.45 魏0.45 苏0.44 吕0.43 丁0.42 任0.41 卢0.40 姚0.39 沈0.38
钟0.37 姜0.37 崔0.36 谭0.35 陆0.34 范0.33 汪0.33 廖0.32 石0.32 金0.31 韦0.30 贾0.30 夏0.29
付0.29 方0.28 邹0.27 熊0.27 白0.27 孟0.26 秦0.26 邱0.26 侯0.26 江0.25 尹0.24 薛0.24 闫0.23
段0.23 雷0.22 龙0.21 黎0.21 史0.21 陶0.20 贺0.20 毛0.19 郝0.19 顾0.19 龚0.18 邵0.18 万0.17
覃0.17 武0.17 钱0.17 戴0.17 严0.16 莫0.16 孔0.16 向0.15 常0.15 汤0.15 康0.14 易0.14 乔0.14
赖0.13 文0.13 施0.13 洪0.12 辛0.12 柴0.11 牛0.11 温0.11 樊0.11 葛0.11 邢0.11 安0.10 齐0.10
伍0.10 庞0.10 颜0.10 倪0.10 殷0.09 聂0.09 章0.09 鲁0.09 岳0.09 翟0.09 申0.08 耿0.08 关0.08
兰0.08 焦0.08 俞0.08 左0.08 柳0.08 甘0.07 祝0.07 包0.07 宁0.07 尚0.07 符0.07 舒0.07 阮0.07
柯0.06 纪0.06 梅0.06 童0.06 凌0.06 毕0.06 单0.06 季0.06 裴0.06 霍0.06 涂0.06 成0.06 苗0.06
谷0.05 盛0.05 曲0.05 翁0.05 冉0.05 骆0.05 蓝0.05 路0.05 游0.05 靳0.05 欧0.05 管0.05 欧阳0.05
柏0.04 景0.04 房0.04 牟0.04 滕0.04 车0.04 宫0.04 解0.04 屈0.04 鲍0.04 时0.04 阎0.04 佟0.03
鞠0.03 隋0.03 丛0.03 郎0.03 戚0.03 荣0.03 项0.03 穆0.03 尤0.03 艾0.03 卓0.03 巩0.03 窦0.03
苑0.03 蒙0.03 连0.03 栾0.02 衣0.02 战0.02 初0.02 臧0.02 卜0.02 刁0.02 邸0.02 全0.02 蔺0.02
逯0.02 闵0.02 芦0.02 晏0.02 商0.02 宗0.02 邬0.02 应0.02 封0.02 仇0.02 辜0.02 杭0.02 查0.02
那0.01 富0.01 乌0.01 权0.01 矫0.01 修0.01 国0.01 和0.01 麻0.01 区0.01 朴0.01
司徒0.003 上官0.003 司马0.002 诸葛0.002 皇甫0.002 夏侯0.001 尉迟0.001 慕容0.001 令狐0.001
东方0.001 端木0.001 公孙0.0005 长孙0.0005 宇文0.0005 呼延0.0005 独孤0.0003 万俟0.0003
"""
_SURNAME_NORTHEAST = """
王1.35 李1.3 张1.35 刘1.4 赵1.6 孙1.8 于3.0 高1.4 杨0.95 马1.1 郭1.1 宋1.4 韩1.5 董1.3
姜2.0 崔1.8 丁1.2 吕1.3 任1.2 孟1.4 白1.3 侯1.2 关6 佟6 鞠4 隋5 栾5 丛5 衣5 战4 初4 曲3
邢1.5 齐1.8 常1.3 尹1.5 石1.2 金1.5 单2 解1.5 付1.5 谷1.5 宫3 矫5 修5 那5 富5 郎3 邸2
车2 牟2 臧2 孔1.1 薛1.1
陈0.55 黄0.3 林0.45 罗0.35 郑0.7 梁0.6 谢0.45 唐0.6 许0.8 邓0.35 彭0.35 曾0.2 肖0.6
潘0.6 袁0.7 蔡0.5 蒋0.55 余0.4 叶0.45 程0.9 苏0.9 卢0.9 姚0.8 沈0.9 钟0.35 谭0.35 陆0.6
范0.9 汪0.45 廖0.25 韦0.1 夏0.8 方0.7 邹0.6 熊0.3 江0.6 段0.9 雷0.6 龙0.3 黎0.2 陶0.7
贺0.7 毛0.7 顾0.7 龚0.4 邵0.9 万0.7 覃0.04 钱0.7 戴0.7 严0.6 莫0.2 向0.2 赖0.1 汤0.6
易0.3 文0.6 施0.5 洪0.6 温0.7 伍0.3 颜0.6 聂0.7 章0.5 翁0.3 冉0.2 游0.3 蓝0.2 辜0.1
阮0.2 区0.3 欧0.4 欧阳0.4 符0.2 柯0.3 甘0.4 舒0.5 涂0.3 骆0.6 凌0.6 蒙0.3 朴0.3
"""
# Rarer 百家姓 surnames: each 0.004 % (together ~0.3 %), so the tail is long.
_SURNAME_TAIL = (
    "郁訾蹇禹阙厉庄晋桑桂濮寿通边扈燕冀浦农别瞿充慕茹习宦鱼容古慎戈庾暨居衡步满弘匡寇"
    "广禄殳沃利蔚越夔隆师厍晁勾敖融冷阚简饶空毋沙乜养须丰巢蒯相后荆红竺盖益桓公仉督岳"
    "帅缑亢况郈有琴商佘佴伯赏墨哈谯笪年言福"
)
_SURNAME_TAIL_COMPOUND = "梁丘 左丘 东门 西门 南宫 第五"
_SURNAMES_MANCHU = """
关8 佟6 金5 赵6 富3 那3 郎2 何2 白2 吴2 徐2 唐1.5 罗1.5 肇1 鄂1 索1 德0.5 洪0.5 依0.5
钮0.5 常1 英0.5 赫0.3 松0.5 文0.5 宁0.5 石1 傅1 爱新觉罗0.3 叶赫那拉0.1 觉罗0.1 瓜尔佳0.05
"""
_SURNAMES_MONGOL = "白8 包8 宝6 韩4 吴4 金3 陈2 于2 乌3 邰2 那2 海2 敖3 鲍2 满1 博1 额1 齐2"
_SURNAMES_HUI = "马25 白4 杨4 李4 张4 丁3 哈2 纳1 沙2 穆2 海2 米1 安2 金2 王4 刘3 回1 铁1 冯1 洪1"
_SURNAMES_XIBE = "关10 吴8 韩5 佟5 安4 何4 杨3 赵3 徐3 伊2 付2 郭2"
_SURNAMES_ZHUANG = "韦10 覃8 黄10 蒙4 莫4 陆3 梁3 农2 李3"
_SURNAMES_KOREAN = """
金22 李15 朴9 崔5 郑4 姜3 赵2 尹2 张2 林2 韩2 申1.5 权1 黄1 安1 宋1 吴1 全1 洪1 柳1 高1
文1 梁1 孙0.8 裴0.8 白0.8 许0.8 南0.5 沈0.5 卢0.5 河0.3 玄0.3 严0.3 元0.3 方0.3 延0.2
千0.2 太0.2 禹0.2 池0.3 具0.2 奇0.2 琴0.1 鱼0.1 宣0.1 车0.3 都0.1 俞0.3 罗0.3 陈0.5 刘0.5
徐0.5 成0.3 明0.2 表0.1 卓0.1
"""
# Own-table share in the mix (the rest from the north-eastern Han table).
_SURNAME_MIX = {
    _MANCHU: (_SURNAMES_MANCHU, 0.5),
    _MONGOL: (_SURNAMES_MONGOL, 0.5),
    _HUI: (_SURNAMES_HUI, 0.7),
    _XIBE: (_SURNAMES_XIBE, 0.5),
    _ZHUANG: (_SURNAMES_ZHUANG, 0.5),
}

# Given names per cohort and gender: (single characters, first characters, second
# characters, whole two-character names). Weights are relative within each list.
_COHORT_STARTS = (1955, 1970, 1985, 2005)  # cohort c: born before _COHORT_STARTS[c]
_SINGLE_SHARE = (0.40, 0.32, 0.24, 0.14, 0.06)
_WHOLE_SHARE = 0.3  # of two-character names, from the cohort's list of whole names
_RARE_SHARE = 0.12  # of two-character names, a first character + a rare second one
# ... and two rare characters, drawn on the fly (no table): the long tail of unique names.
_RARE_PAIR_SHARE = 0.08
_GIVEN = {
    (0, 1): (
        "山20 林15 明15 华8 军10 成12 海12 福12 贵10 祥10 发8 忠10 义8 德12 荣8 生10 强8 "
        "全8 武6 文10 俊6 斌5 刚8 勇8 平10 杰5 金10 玉6 清8 春8 有6 财5 宝6 顺6 利5 才6 良6 "
        "泉5 树6 森4 喜5 奎4 魁3 庆6",
        "建10 国18 振10 德12 永12 志12 宝8 金10 玉8 文10 长8 树10 庆8 福10 春8 洪6 学8 广8 "
        "东8 家6 万6 世8 锡4 殿5 云6 克6 占5 景5 绍5 立6 兴6",
        "山12 林10 明10 华12 生10 成8 海8 祥8 贵8 发6 忠6 义6 德6 荣8 财6 全6 武6 文6 才6 "
        "良6 有5 春6 和6 仁5 田5 堂5 胜6 喜5 贤5 民8 安6 江6 富6 恩4 岐3 臣6",
        "建国30 国庆20 建华15 建军15 国华12 振华10 志刚10 德胜8 长林6 玉林8 树林8 福林6 "
        "宝山10 金山8 永富6 庆祥6 德福6 万福6 福贵6 长贵6 殿臣5 景山5 凤山5 占山5 铁柱4 "
        "铁军5 解放12 援朝8 抗美5 胜利8 和平8 新民6 跃进4 卫东4",
    ),
    (0, 0): (
        "英12 兰15 珍15 芳15 华5 秀10 琴8 凤10 霞8 玉10 梅8 荣8 菊8 云8 萍6 娟5 敏4 静3 "
        "红6 淑6 桂6 芝6 莲6 香6 花5 清5 贞5",
        "淑25 桂25 秀25 玉20 凤18 素10 翠10 金8 春10 丽6 美6 月8 彩6 爱8 瑞6 惠6 慧4 雅3 "
        "兰5 宝6 艳3 文5",
        "兰25 珍25 英25 芝15 华15 芬12 荣12 琴12 霞10 云10 香10 梅10 凤8 清8 娥8 贞6 花6 "
        "莲6 杰4 环5 秋6 菊6 侠5 敏4",
        "淑珍20 桂兰25 秀英35 玉兰15 秀兰15 凤英12 桂芝12 秀珍12 玉梅8 淑兰10 桂英10 "
        "玉珍10 凤兰8 素芳6 淑芬8 桂荣6 凤芝6 玉芬6 淑华8 秀芳6 金凤6 春兰6 翠兰6 秀云6 "
        "丽华6",
    ),
    (1, 1): (
        "军20 伟25 勇15 强15 刚15 明12 平12 华6 斌10 东10 杰8 涛6 辉8 峰8 林8 波8 宏8 "
        "海8 兵8 亮6 春6 胜6 健8 鹏5 毅6 忠5 光6 江6 岩5 新6 力5 群5",
        "建20 国15 卫15 红12 志12 永10 立10 宏8 晓8 学8 文8 振8 东10 小10 爱6 新8 继6 "
        "庆6 长6 海8 春8 光8 延4 铁6 德6 玉5 金6 成6 跃4 俊5",
        "国12 军15 华15 明12 平10 林8 东10 民12 生6 伟10 强10 刚10 勇8 成6 忠6 新6 文6 "
        "武6 斌6 峰6 杰6 涛6 辉6 波6 江6 宇4 春6 山6",
        "建国12 建军15 建华12 国庆15 卫东15 卫国12 红军10 志强8 志刚10 国强10 晓东8 "
        "小军6 立新8 向东8 向阳8 红卫8 文革6 永强6 海涛5 建平8 建新8 铁军6 宏伟8",
    ),
    (1, 0): (
        "红14 梅10 霞15 华6 丽15 萍12 燕12 英10 敏10 静10 芳20 娟10 玲10 琴8 艳12 荣6 "
        "云8 杰5 颖5 莉5 兰6 凤5",
        "秀12 淑10 桂8 玉12 丽12 红15 春10 晓8 小8 爱8 美8 彩4 凤8 金6 雪6 冬6 秋6 海5 "
        "艳8 素5 月6 文6",
        "梅18 红15 华18 霞15 英15 芳12 萍12 燕10 琴10 荣10 兰10 玲10 珍8 丽8 云8 杰6 敏8 "
        "娟8 君6 艳8 菊5",
        "红梅15 丽华12 秀梅8 桂华6 玉华8 春燕8 秋菊6 冬梅8 海燕8 红霞10 晓红8 丽娟8 "
        "红英8 艳华8 秀华8 丽萍8 爱华6 淑华6 小红8 卫红6",
    ),
    (2, 1): (
        "伟40 磊20 勇18 军16 强16 涛16 杰14 斌12 刚12 明10 辉12 鹏10 峰10 超10 波10 健8 "
        "亮8 东8 宇6 飞8 凯6 俊6 华4 林6 锋6 彬6 岩6 博5 成5 兵5 滨5 旭5",
        "建10 志12 晓15 海12 永8 小10 文8 春8 宏8 俊8 东8 国8 立6 红4 金6 德4 明8 学6 "
        "振6 大8 伟6 洪5 兴5 长5",
        "伟15 军12 强12 勇10 峰12 杰10 涛10 明10 华10 波10 平8 东10 辉10 斌8 林8 刚8 宇8 "
        "龙8 鹏8 亮8 飞8 超6 新6 成6 民5 君5 江5",
        "海涛10 志强8 志刚8 晓东10 海波8 晓明8 小龙6 永强6 俊峰6 大伟8 晓峰8 建伟6 "
        "宏伟6 春雷5 立伟5 志勇8 东升6 海龙6 志伟6",
    ),
    (2, 0): (
        "丽22 艳20 静22 娜22 敏18 芳22 霞12 燕14 娟14 红12 梅10 玲10 萍8 颖8 莉8 华6 英6 "
        "琳6 丹10 爽8 蕾6 洁6 慧6 晶6 华3",
        "丽12 晓15 海8 小8 春8 红8 秀6 玉6 艳10 雪8 美6 金5 丹5 冬5 秋5 亚6 凤5 爱4 文5 宏5",
        "丽12 红10 华10 霞10 燕12 娟10 梅10 艳10 玲10 敏10 静10 颖8 芳10 萍8 杰5 英6 丹6 "
        "莉6 琳6 君6",
        "丽丽10 晓丽8 海燕10 春艳8 晓红8 丽娟8 红艳6 秀丽6 雪梅8 丹丹8 晓燕8 艳丽6 美玲6 "
        "玉洁6 晓敏6 冬梅6 亚男4 丽娜8",
    ),
    (3, 1): (
        "磊20 伟22 鹏16 涛14 杰18 超16 浩14 鑫14 宇14 帅12 亮10 凯12 健10 博10 斌8 阳10 "
        "旭10 明8 强8 飞8 龙8 宁6 晨8 昊8 楠6 琦6 岩5 硕6 威6",
        "子8 浩10 宇10 志8 俊8 晓8 家8 嘉6 文8 思6 天10 永4 佳6 明8 泽4 一6 金5 海6 建4 "
        "立4 云4 鹏4 雨4 博6",
        "宇16 杰14 鹏12 浩12 博10 鑫12 龙10 涛10 飞10 轩8 阳10 磊8 伟8 强6 辉6 明8 峰6 "
        "凯8 文6 超6 翔8 然6 航6 豪6 晨6",
        "浩然8 子豪8 宇航8 俊杰8 鹏飞8 浩宇8 天宇8 志强6 家豪6 博文6 明轩6 文博6 思远5 "
        "一鸣6 子健6 嘉豪4 佳豪4",
    ),
    (3, 0): (
        "婷20 雪16 倩14 娜14 静12 丹12 敏10 颖10 悦8 欣10 琳10 洁8 楠8 蕾8 爽8 莹10 佳8 "
        "璐8 瑶8 薇8 晶8 慧8 月6 双6 晨6 艺6 萌6",
        "晓8 雨10 欣10 佳12 思12 梦10 诗8 雪8 文6 丽6 婷6 美6 梓4 子6 心6 可6 紫6 若6 家4 静4 嘉6",
        "婷14 雪10 怡14 琪12 欣10 涵8 悦10 颖8 萱6 瑶10 彤8 楠8 妍8 琳10 雯10 慧8 洁6 "
        "月8 然6 宇6 佳6 丹6",
        "欣怡10 思雨8 佳琪10 雨婷8 梦瑶8 诗涵8 晓雪8 佳怡6 婷婷10 丹丹6 莹莹6 静怡6 "
        "雨欣6 文静6 佳欣6 思琪6 晓彤6",
    ),
    (4, 1): (
        "浩10 宇10 睿10 轩10 哲8 然6 杰6 博8 晨8 昊8 航6 瑞6 铭6 泽8 凯5 骏5 毅5",
        "子16 梓12 浩14 宇12 俊8 一10 奕8 亦8 思6 明6 博8 嘉8 皓8 沐6 天8 家6 景6 锦6 逸8 承6",
        "轩20 辰18 宇16 涵10 睿10 泽12 航10 豪8 阳8 杰8 博8 铭8 然8 霖6 晨8 宸10 洋6 文6 凡6 川6",
        "浩然10 子墨10 宇轩12 奕辰12 亦辰10 浩宇10 子轩12 梓豪8 宇辰10 一鸣6 沐辰8 "
        "梓睿6 宇航8 俊熙6 睿泽6 浩轩6",
    ),
    (4, 0): (
        "萱10 涵10 琪8 悦8 妍8 彤8 欣8 怡8 瑶8 晨6 可6 诺6 琳6 菲6",
        "梓14 子12 一10 欣12 语12 雨12 诗10 思10 可10 若8 佳8 紫8 依8 梦8 心8 芷6 沐6 安6 奕6",
        "涵20 萱18 怡14 彤12 琪10 诺12 妍10 悦10 桐10 汐8 瑶8 菲8 然8 欣8 晴8 希6 宁6 熙6",
        "一诺14 梓涵12 欣怡12 语桐10 梓萱12 依诺10 子涵10 可欣10 语汐8 雨桐10 梦瑶8 "
        "诗涵8 欣妍8 思彤6 若汐6",
    ),
}
# Rarer characters for the long tail of two-character names (both sexes).
_RARE_CHARS = (
    "霖瀚骞璟珩琛珏玮璇瑾瑜琰琨珂瑄曦晗暄昱晟昶煜炜烨焱熠灏澜泓浚潇湛沁淇澄滢溪漪渊洵"
    "铎锴钰铮镕钊岚峥嵘崧屹峻桐楷梧榕栩樾柏棠槿杉芮芸茜蓉菁蔓蕴荞荷莘菡蕙苡芊葳筠箐"
    "笙竹翊翎翀羽朗骏驰骁麒麟鸿鹤雁鹂霏霓露霄霆靖竣端谦诚谨谊韵彦弈羿尧舜崇智恩恺恒"
    "愉惟念忆宜宙宽容寒晖曜星朔迪达遥喆乐凡希昕歆钦岑默墨素青晴清沛澍濛"
)
_KOREAN_GIVEN = {
    1: (
        "成8 光8 哲8 永8 明6 英6 东6 龙5 日5 虎3 昌5 相5 正6 根4 铁4 元5 勇4 泰5 春5 万3 "
        "在5 承4 炳3 俊5 吉4 基3 镇4 浩4 志4",
        "浩8 哲8 洙8 日6 男6 植6 俊6 国5 万4 杰4 石4 龙6 镇5 浚3 根5 学5 吉4 秀4 奎3 范3 "
        "元4 珠4 烈3 锡4 权2 大3 焕4",
    ),
    0: (
        "美10 英8 顺8 贞8 玉8 春6 善6 明6 惠6 京5 淑6 花5 恩4 秀6 海5 银5 金5 正5 红5 "
        "丽5 香4 莲3 允4 仙4 福3",
        "子8 花8 姬10 玉8 兰8 淑6 爱8 善6 顺6 贞6 丽6 实4 珍6 妍5 华6 英6 熙5 娥4 今3 "
        "粉3 福3 仙4 梅4",
    ),
}
_MONGOL_GIVEN = {
    1: "巴特尔8 额尔敦5 哈斯6 孟和5 朝鲁5 宝音5 苏和5 毕力格4 乌力吉4 那顺3 阿拉坦3 "
    "额日和3 白音4 巴雅尔4 特木尔4 吉日嘎拉2 布和4",
    0: "其其格6 乌云6 图雅6 萨仁5 斯琴6 高娃5 娜仁5 苏日娜5 塔娜5 琪琪格4 乌兰5 托娅4 "
    "萨日娜4 其木格4 敖登4",
}
_MONGOL_NAME_SHARE = 0.25
# Uyghur given names (transliterations). A name is given·father's given name, at most six
# characters: a three-character given name only goes with a two-character father's name.
_UYGHUR_GIVEN = {
    (1, 2): "艾力 艾山 阿里 亚森 肉孜 伊明",
    (1, 3): "买买提 吐尔逊 阿布拉 热合曼 阿力木 艾尔肯 吾斯曼 阿不都",
    (0, 2): "古丽 米娜 阿依 热娜 迪娜 帕夏 努尔 萨拉",
    (0, 3): "阿米娜 热依拉 帕提曼 古再丽 吐尼莎 阿依夏",
}

# Where people born elsewhere come from: (GB/T 2260 county-level code, weight).
_ELSEWHERE = """
210202:6 210203:4 210211:5 210281:3 210302:6 210303:4 210381:4 210402:6 210421:3 210502:4
210602:4 210681:2 210702:4 210781:2 210802:3 210881:2 210902:4 210921:3 211002:4 211081:2
211102:3 211202:6 211221:4 211223:3 211224:5 211281:2 211282:4 211302:4 211321:4 211381:3
211402:3 211481:2
220102:3 220104:2 220182:1.5 220202:2 220302:2 220381:1.5 220402:1 220502:1 220581:1 220602:1
220702:1 220802:1 222401:1.5 222403:1
230102:3 230103:2 230202:2 230302:1.5 230402:1 230502:1 230602:2 230803:1.5 230902:1 231002:1.5
231102:1 231202:1.5
150102:1 150402:1.5 150502:2 150702:1 152201:1
370102:1.2 370202:1.2 370602:1.5 371002:1 370702:1 130102:1 130202:1 130302:0.8 130802:0.8
410102:1 410302:0.6 110101:0.5 110105:0.5 120101:0.5 310101:0.4 320102:0.4 330102:0.3
340102:0.4 350102:0.2 360102:0.2 420102:0.4 430102:0.3 440103:0.2 440304:0.2 450102:0.2
510104:0.5 500103:0.3 610102:0.3 140105:0.4 620102:0.2 530102:0.2 520102:0.2 650102:0.1
460105:0.1 640104:0.1 630102:0.1
"""
_XINJIANG = "650102:4 650103:2 653101:3 652801:2 652901:1"
_YANBIAN = "222401:6 222403:2 222405:1 222406:1"
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"  # check character for (weighted sum mod 11)

# Household types (family): share of family households.
_SINGLE, _COUPLE, _ONE_CHILD, _TWO_CHILDREN, _SINGLE_PARENT, _THREE_GEN, _SKIP_GEN, _FOUR = range(8)
_COLLECTIVE = 8
_TYPE_WEIGHTS = (20, 25, 28, 8, 5, 8, 3, 3, 0.35)


def _year_weight(year: int) -> float:
    """Surviving residents per birth year in 2026 (relative), for a north-eastern city."""
    points = (
        (1920, 0.01),
        (1925, 0.05),
        (1930, 0.15),
        (1935, 0.35),
        (1940, 0.6),
        (1945, 0.85),
        (1949, 1.0),
        (1950, 1.2),
        (1954, 1.45),
        (1958, 1.4),
        (1959, 1.1),
        (1961, 0.85),
        (1962, 1.7),
        (1963, 2.1),
        (1968, 2.2),
        (1971, 2.1),
        (1975, 1.7),
        (1979, 1.5),
        (1982, 1.55),
        (1987, 1.75),
        (1990, 1.7),
        (1993, 1.3),
        (1997, 1.05),
        (2000, 0.85),
        (2005, 0.75),
        (2014, 0.75),
        (2016, 0.78),
        (2018, 0.7),
        (2020, 0.5),
        (2023, 0.38),
        (2026, 0.32),
    )
    for (y0, w0), (y1, w1) in itertools.pairwise(points):
        if y0 <= year <= y1:
            return w0 + (w1 - w0) * (year - y0) / (y1 - y0)
    return 0.0


def _head_age_shape(kind: int, age: int) -> float:
    """Relative chance that the head of a household of this type has this age."""
    if kind == _SINGLE:
        if age < 20:
            return 0.0
        return 1.0 if age < 30 else 0.45 if age < 65 else 1.2 if age < 80 else 1.8
    if kind == _COUPLE:
        if age < 24:
            return 0.0
        return 0.6 if age < 32 else 0.25 if age < 48 else 1.6 if age < 80 else 1.0
    if kind == _ONE_CHILD:
        return 1.0 if 26 <= age <= 68 else 0.0
    if kind == _TWO_CHILDREN:
        return 1.0 if 32 <= age <= 45 else 0.35 if 60 <= age <= 82 else 0.0
    if kind == _SINGLE_PARENT:
        return 1.0 if 30 <= age <= 72 else 0.0
    if kind == _THREE_GEN:
        return 1.0 if 32 <= age <= 62 else 0.0
    if kind == _SKIP_GEN:
        return 1.0 if 52 <= age <= 82 else 0.0
    if kind == _FOUR:
        return 1.0 if 55 <= age <= 85 else 0.0
    return 0.0


# --- table building -------------------------------------------------------------------------

_WEIGHTED = re.compile(r"^(\D+?):?([\d.]+)$")


def _weighted(text: str) -> dict[str, float]:
    """Parse "王7.12 李7.00" or "210202:6 210203:4" into {key: weight} (repeats add up)."""
    table: dict[str, float] = {}
    for token in text.split():
        if ":" in token:
            key, weight = token.split(":")
        else:
            match = _WEIGHTED.match(token)
            if match is None:
                raise ValueError(f"bad weighted token {token!r}")
            key, weight = match.groups()
        table[key] = table.get(key, 0.0) + float(weight)
    return table


def _normalised(table: dict[str, float]) -> dict[str, float]:
    total = sum(table.values())
    return {key: weight / total for key, weight in table.items()}


def _cumulative(table: dict[str, float]) -> tuple[list[str], list[float]]:
    keys = list(table)
    return keys, list(itertools.accumulate(table[k] for k in keys))


@cache
def han_surname_shares() -> Mapping[str, float]:
    """The north-eastern Han surname table (shares summing to 1), largest first."""
    national = _weighted(_SURNAMES_NATIONAL)
    factors = _weighted(_SURNAME_NORTHEAST)
    table = {name: share * factors.get(name, 1.0) for name, share in national.items()}
    for name in _SURNAME_TAIL:
        table.setdefault(name, 0.004)
    for name in _SURNAME_TAIL_COMPOUND.split():
        table.setdefault(name, 0.0005)
    return MappingProxyType(dict(sorted(_normalised(table).items(), key=lambda kv: -kv[1])))


def _given_table(cohort: int, male: int) -> dict[str, float]:
    singles, firsts, seconds, wholes = (_weighted(s) for s in _GIVEN[(cohort, male)])
    p_single = _SINGLE_SHARE[cohort]
    p_two = 1.0 - p_single
    table: dict[str, float] = {}

    def add(name: str, p: float) -> None:
        table[name] = table.get(name, 0.0) + p

    for name, p in _normalised(singles).items():
        add(name, p_single * p)
    for name, p in _normalised(wholes).items():
        add(name, p_two * _WHOLE_SHARE * p)
    firsts, seconds = _normalised(firsts), _normalised(seconds)
    combo = p_two * (1.0 - _WHOLE_SHARE - _RARE_SHARE - _RARE_PAIR_SHARE)
    add("", p_two * _RARE_PAIR_SHARE)  # the generator replaces "" by two rare characters
    rare = p_two * _RARE_SHARE / len(_RARE_CHARS)
    for first, pf in firsts.items():
        for second, ps in seconds.items():
            if first != second:
                add(first + second, combo * pf * ps)
        for second in _RARE_CHARS:
            if first != second:
                add(first + second, rare * pf)
    return table


class _Tables:
    """Everything the generator looks up, built once per process (~0.7 s)."""

    def __init__(self) -> None:
        self.reference_day = (REFERENCE_DATE - FIRST_BIRTH).days  # first day nobody is born
        days = self.reference_day
        self.days = days
        self.iso: list[str] = []
        self.compact: list[str] = []
        self.date_sum: list[int] = []
        self.cohort = bytearray(days)
        self.year_start: dict[int, int] = {}
        day = FIRST_BIRTH
        for index in range(days):
            compact = f"{day:%Y%m%d}"
            self.iso.append(f"{day:%Y-%m-%d}")
            self.compact.append(compact)
            self.date_sum.append(
                sum(int(c) * w for c, w in zip(compact, _ID_WEIGHTS[6:14], strict=True))
            )
            self.cohort[index] = bisect.bisect_right(_COHORT_STARTS, day.year)
            if day.month == 1 and day.day == 1:
                self.year_start[day.year] = index
            day += dt.timedelta(days=1)
        # Age in whole years at the reference date, per day index.
        self.age = [0] * days
        for index in range(days):
            birth = FIRST_BIRTH + dt.timedelta(days=index)
            age = REFERENCE_DATE.year - birth.year
            if (birth.month, birth.day) > (REFERENCE_DATE.month, REFERENCE_DATE.day):
                age -= 1
            self.age[index] = age

        # Regions: the 13 districts first, then the places people come from.
        self.districts = [(code, name) for code, name, *_ in _DISTRICTS]
        elsewhere = _weighted(_ELSEWHERE)
        xinjiang, yanbian = _weighted(_XINJIANG), _weighted(_YANBIAN)
        regions = [code for code, _ in self.districts]
        for code in itertools.chain(elsewhere, xinjiang, yanbian):
            if code not in regions:
                regions.append(code)
        self.regions = regions
        self.region_sum = [
            sum(int(c) * w for c, w in zip(code, _ID_WEIGHTS[:6], strict=True)) for code in regions
        ]
        index_of = {code: i for i, code in enumerate(regions)}
        self.elsewhere = (
            [index_of[c] for c in elsewhere],
            list(itertools.accumulate(elsewhere.values())),
        )
        self.xinjiang = (
            [index_of[c] for c in xinjiang],
            list(itertools.accumulate(xinjiang.values())),
        )
        self.yanbian = (
            [index_of[c] for c in yanbian],
            list(itertools.accumulate(yanbian.values())),
        )
        self.numbers = [str(n) for n in range(1000)]
        self.digits4 = [f"{n:04d}" for n in range(10000)]
        self.seq_str = [f"{s:03d}" for s in range(1000)]
        self.seq_sum = [
            sum(int(c) * w for c, w in zip(f"{s:03d}", _ID_WEIGHTS[14:], strict=True))
            for s in range(1000)
        ]
        # A fixed permutation of the slots, so sequences look scattered, not 001, 003 ...
        self.slot_sequence = list(range(SEQ_SLOTS))
        random.Random("servicehall-city:slots").shuffle(self.slot_sequence)

        # Districts: shares, stations, streets, ethnic mixes.
        self.district_cum = list(itertools.accumulate(share for _, _, share, _, _ in _DISTRICTS))
        self.stations: list[list[tuple[str, str, str]]] = []  # (code, name, place)
        self.streets: list[list[str]] = []
        self.village_share: list[float] = []
        self.ethnic_cum: list[list[float]] = []
        for code, name, _share, streets, places in _DISTRICTS:
            self.stations.append(
                [
                    (f"{code}-S{n:02d}", f"{name}{place}派出所", place)
                    for n, place in enumerate(places.split(), start=1)
                ]
            )
            self.streets.append(streets.split())
            self.village_share.append(_VILLAGE_SHARE.get(code, 0.0))
            weights = [
                w * _ETHNIC_ACCENTS.get(code, {}).get(i, 1.0) for i, w in enumerate(_ETHNIC_BASE)
            ]
            weights[_HAN] = 1000 - sum(weights)
            self.ethnic_cum.append(list(itertools.accumulate(weights)))

        # Surnames per ethnicity.
        han = han_surname_shares()
        self.surnames: list[tuple[list[str], list[float]]] = []
        for ethnicity in range(len(ETHNICITIES)):
            if ethnicity == _KOREAN:
                table = _normalised(_weighted(_SURNAMES_KOREAN))
            elif ethnicity in _SURNAME_MIX:
                own_text, own_share = _SURNAME_MIX[ethnicity]
                table = {k: v * (1 - own_share) for k, v in han.items()}
                for k, v in _normalised(_weighted(own_text)).items():
                    table[k] = table.get(k, 0.0) + v * own_share
            else:
                table = han
            self.surnames.append(_cumulative(table))
        self.village_names = [
            f"{surname}家{suffix}"
            for surname in "王李张刘赵孙于高杨马郭宋韩姜崔董吴徐关佟白何"
            for suffix in _VILLAGE_SUFFIXES
        ]

        # Given names: Han per (cohort, male); Korean and Mongolian per sex.
        self.given = [
            _cumulative(_given_table(cohort, male)) for cohort in range(5) for male in (0, 1)
        ]
        self.korean_given = []
        for male in (0, 1):
            firsts, seconds = (_normalised(_weighted(s)) for s in _KOREAN_GIVEN[male])
            table = {
                f + s: pf * ps for f, pf in firsts.items() for s, ps in seconds.items() if f != s
            }
            self.korean_given.append(_cumulative(table))
        self.mongol_given = [_cumulative(_weighted(_MONGOL_GIVEN[male])) for male in (0, 1)]
        self.uyghur_given = {key: text.split() for key, text in _UYGHUR_GIVEN.items()}

        # Household types and, per type, the head's birth day (drawn directly: one bisect in
        # a cumulative table over all days is cheaper than a year, then a day in it).
        self.type_cum = list(itertools.accumulate(_TYPE_WEIGHTS))
        years_of_day = [FIRST_BIRTH.year] * days
        for year, start in self.year_start.items():
            end = self.year_start.get(year + 1, days)
            years_of_day[start:end] = [year] * (end - start)
        self.head_days: list[list[float]] = []
        for kind in range(_COLLECTIVE):
            weights = [
                _year_weight(y) * _head_age_shape(kind, self.age[d])
                for d, y in enumerate(years_of_day)
            ]
            self.head_days.append(list(itertools.accumulate(weights)))
        weights = [
            0.0
            if not 17 <= self.age[d] <= 45
            else _year_weight(y) * (3.0 if self.age[d] <= 24 else 1.0)
            for d, y in enumerate(years_of_day)
        ]
        self.collective_days = list(itertools.accumulate(weights))

        # Children are drawn from their mothers' ages; this thins them where the target
        # pyramid is thin (accepting a draw with probability weight / 0.85, capped at 1).
        self.birth_accept = [
            min(1.0, _year_weight(FIRST_BIRTH.year + index // 365) / 0.85) for index in range(days)
        ]

        # Per age (0..120): probabilities of being born elsewhere, having a phone, status.
        self.born_elsewhere = [
            0.08 if a < 18 else 0.32 if a <= 40 else 0.28 if a <= 65 else 0.2 for a in range(121)
        ]
        self.phone = [
            0.0
            if a < 12
            else 0.3
            if a < 16
            else 0.7
            if a < 18
            else 0.93
            if a <= 70
            else 0.8
            if a <= 80
            else 0.55
            if a <= 90
            else 0.3
            for a in range(121)
        ]
        self.deceased = [
            0.001
            if a < 40
            else 0.004
            if a < 60
            else 0.012
            if a < 70
            else 0.03
            if a < 80
            else 0.08
            if a < 90
            else 0.2
            for a in range(121)
        ]
        self.moved_out = [
            0.004 if a < 18 else 0.018 if a <= 40 else 0.008 if a <= 60 else 0.004
            for a in range(121)
        ]


@cache
def _tables() -> _Tables:
    return _Tables()


def stations() -> list[tuple[str, str, str]]:
    """(district code, station code, station name) of every station in the city."""
    t = _tables()
    return [
        (code, station_code, station_name)
        for (code, _), district_stations in zip(t.districts, t.stations, strict=True)
        for station_code, station_name, _ in district_stations
    ]


# --- generation -------------------------------------------------------------------------------


class _Draw:
    """Weighted draws from several tables at once. Table i's cumulative weights, normalised
    to (0, 1], are shifted by i and concatenated: one searchsorted then serves a whole vector
    of (table, uniform) pairs. Returns indexes into the concatenation (see `starts`)."""

    def __init__(self, cums: list[list[float]]) -> None:
        parts, starts, ends = [], [], []
        offset = 0
        for i, cum in enumerate(cums):
            values = np.asarray(cum, dtype=np.float64)
            parts.append(values / values[-1] + i)
            starts.append(offset)
            offset += len(values)
            ends.append(offset - 1)
        self.cum = np.concatenate(parts)
        self.starts = np.asarray(starts, dtype=np.int64)
        self.ends = np.asarray(ends, dtype=np.int64)

    def __call__(self, table, uniform: np.ndarray) -> np.ndarray:
        found = np.searchsorted(self.cum, table + uniform, side="right")
        # table + u can round up to table + 1 when u is within 2^-50 of 1: stay in the table.
        return np.minimum(found, self.ends[table])


def _objects(values: Iterable) -> np.ndarray:
    """A numpy array of Python objects (strings), for vectorised look-ups and concatenation."""
    values = list(values)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


class _Vectors:
    """The tables as numpy arrays, for the vectorised generator (built once per process)."""

    def __init__(self, t: _Tables) -> None:
        days = t.days
        self.days = days
        self.age = np.asarray(t.age, dtype=np.int64)
        self.cohort = np.frombuffer(bytes(t.cohort), dtype=np.uint8).astype(np.int64)
        self.birth_accept = np.asarray(t.birth_accept, dtype=np.float64)
        self.p_else = np.asarray(t.born_elsewhere)
        self.p_phone = np.asarray(t.phone)
        self.p_dead = np.asarray(t.deceased)
        self.p_gone = self.p_dead + np.asarray(t.moved_out)
        self.date_sum = np.asarray(t.date_sum, dtype=np.int64)
        self.region_sum = np.asarray(t.region_sum, dtype=np.int64)
        self.seq_sum = np.asarray(t.seq_sum, dtype=np.int64)
        self.slot_sequence = np.asarray(t.slot_sequence, dtype=np.int64)
        self.n_regions = len(t.regions)
        # ID characters as bytes: an ID is assembled as an (n, 18) byte matrix.
        self.region_digits = np.frombuffer("".join(t.regions).encode(), np.uint8).reshape(-1, 6)
        self.date_digits = np.frombuffer("".join(t.compact).encode(), np.uint8).reshape(-1, 8)
        self.seq_digits = np.frombuffer("".join(t.seq_str).encode(), np.uint8).reshape(-1, 3)
        self.check_chars = np.frombuffer(_CHECK_CHARS.encode(), np.uint8)
        self.iso = _objects(t.iso)

        self.district = _Draw([t.district_cum])
        self.types = _Draw([t.type_cum])
        self.ethnic = _Draw(t.ethnic_cum)  # one table per district, 11 entries each
        self.n_ethnicities = len(ETHNICITIES)
        self.head_days = _Draw(t.head_days)  # one table per household type, one entry per day
        self.collective_days = _Draw([t.collective_days])
        self.elsewhere = _Draw([t.elsewhere[1]])
        self.elsewhere_regions = np.asarray(t.elsewhere[0], dtype=np.int64)
        self.xinjiang = _Draw([t.xinjiang[1]])
        self.xinjiang_regions = np.asarray(t.xinjiang[0], dtype=np.int64)
        self.yanbian = _Draw([t.yanbian[1]])
        self.yanbian_regions = np.asarray(t.yanbian[0], dtype=np.int64)
        # Surnames: one table per ethnicity; the last entry of `surname_strings` is "" (a
        # member without surname has family -1).
        self.surnames = _Draw([cum for _, cum in t.surnames])
        self.surname_strings = _objects(
            [*itertools.chain.from_iterable(k for k, _ in t.surnames), ""]
        )
        # Given names: tables 0-9 Han style (cohort * 2 + male), 10-11 Korean, 12-13 Mongolian.
        given_tables = [*t.given, *t.korean_given, *t.mongol_given]
        self.given = _Draw([cum for _, cum in given_tables])
        self.given_strings = _objects(itertools.chain.from_iterable(k for k, _ in given_tables))
        self.rare = _objects(_RARE_CHARS)

        # Places: stations, streets and their strings.
        self.n_stations = np.asarray([len(s) for s in t.stations], dtype=np.int64)
        self.station_start = np.concatenate([[0], np.cumsum(self.n_stations)[:-1]])
        self.station_place = _objects(place for s in t.stations for _, _, place in s)
        self.station_tail = _objects(
            f",{code},{station_code},{station_name}"
            for (code, _), s in zip(t.districts, t.stations, strict=True)
            for station_code, station_name, _ in s
        )
        self.n_streets = np.asarray([len(s) for s in t.streets], dtype=np.int64)
        self.street_start = np.concatenate([[0], np.cumsum(self.n_streets)[:-1]])
        self.streets = _objects(itertools.chain.from_iterable(t.streets))
        self.city_district = _objects(f"沈阳市{name}" for _, name in t.districts)
        self.district_codes = _objects(code for code, _ in t.districts)
        self.village_share = np.asarray(t.village_share)
        self.village_names = _objects(f"镇{name}村" for name in t.village_names)
        self.numbers = _objects(t.numbers)
        self.digits4 = _objects(t.digits4)
        self.rooms = _objects(f"{n:02d}" for n in range(100))
        self.gender_ethnicity = _objects(f"{g},{e}," for g in ("女", "男") for e in ETHNICITIES)
        self.relations = _objects(RELATIONS)
        self.statuses = _objects(("registered", "deceased", "moved_out"))
        self.uyghur_pools = {key: list(pool) for key, pool in t.uyghur_given.items()}


@cache
def _vectors() -> _Vectors:
    return _Vectors(_tables())


class _Lane:
    """ID sequence counters of one lane: one byte per (region, day, sex). np.zeros maps
    zeroed pages lazily, so untouched cells cost no memory."""

    __slots__ = ("counts", "lane")

    def __init__(self, lane: int, v: _Vectors) -> None:
        self.lane = lane
        self.counts = np.zeros(v.n_regions * v.days * 2, dtype=np.uint8)


# Relation codes (indexes into RELATIONS) and member slots of a family household.
_HEAD, _SPOUSE, _SON, _DAUGHTER, _FATHER, _MOTHER, _GRANDSON, _GRANDDAUGHTER, _OTHER = range(9)
_SLOTS = 7  # head, partner, first child, second child, father, mother, someone else


def _household_batch(v: _Vectors, u: Callable[[int], np.ndarray], n: int) -> dict[str, np.ndarray]:
    """`n` households: their own attributes and their members (in household, slot order)."""
    days = v.days
    year = 365.25

    def years(lo: float, hi: float, size: int = n) -> np.ndarray:
        return ((lo + u(size) * (hi - lo)) * year).astype(np.int64)

    def triangular(size: int = n) -> np.ndarray:
        return u(size) + u(size) + u(size) - 1.5

    def flags(p, size: int = n) -> np.ndarray:
        return u(size) < p

    k = v.district(0, u(n))
    kind = v.types(0, u(n))
    station = v.station_start[k] + (u(n) * v.n_stations[k]).astype(np.int64)
    households = {
        "k": k,
        "kind": kind,
        "station": station,
        "village": flags(v.village_share[k]),
        "village_name": (u(n) * len(v.village_names)).astype(np.int64),
        "village_number": 1 + (u(n) * 180).astype(np.int64),
        "street": v.street_start[k] + (u(n) * v.n_streets[k]).astype(np.int64),
        "house": 1 + (u(n) * u(n) * 400).astype(np.int64),
        "floor": 1 + (u(n) * np.where(flags(0.6), 7, 30)).astype(np.int64),
        "unit": 1 + (u(n) * 6).astype(np.int64),
        "room": 1 + (u(n) * 4).astype(np.int64),
    }

    # --- family households: one column per member slot --------------------------------------
    n_eth = v.n_ethnicities
    eth_head = v.ethnic(k, u(n)) - k * n_eth
    family_kind = np.where(kind == _COLLECTIVE, _SINGLE, kind)
    head = v.head_days(family_kind, u(n)) - family_kind * days
    head_age = v.age[head]
    p_male = np.where(
        kind == _SINGLE,
        np.where(head_age < 40, 0.64, np.where(head_age < 65, 0.52, 0.35)),
        np.where(kind == _SINGLE_PARENT, 0.3, 0.7),
    )
    head_male = flags(p_male)
    has_partner = ~np.isin(kind, (_SINGLE, _SINGLE_PARENT, _COLLECTIVE))
    # Husbands are ~2 years older on average; nobody marries before 20.
    gap = ((2.0 + triangular() * 5.0) * year).astype(np.int64)
    partner = np.clip(head + np.where(head_male, gap, -gap), 0, days - 1 - 7305)
    uyghur_home = eth_head == _UYGHUR
    eth_partner = np.where(flags(0.7), eth_head, v.ethnic(k, u(n)) - k * n_eth)
    eth_partner = np.where(eth_partner == _UYGHUR, _HAN, eth_partner)
    eth_partner = np.where(uyghur_home, _UYGHUR, eth_partner)
    # A child of a mixed couple mostly takes the minority's ethnicity.
    minority = np.where(eth_head != _HAN, eth_head, eth_partner)
    eth_child = np.where(uyghur_home, _UYGHUR, np.where(flags(0.8), minority, _HAN))
    head_family = v.surnames(eth_head, u(n))
    partner_family = v.surnames(eth_partner, u(n))
    mother = np.where(
        head_male, np.where(has_partner, partner, np.minimum(head + 730, days - 1)), head
    )
    father = np.where(head_male, head, np.where(has_partner, partner, -1))
    single_mother = (kind == _SINGLE_PARENT) & ~head_male
    family = np.where(head_male, head_family, partner_family)
    # A single mother's child mostly bears the absent father's surname.
    family = np.where(single_mother & flags(0.8), v.surnames(eth_child, u(n)), family)

    def birth_after(mother_day: np.ndarray, father_day: np.ndarray) -> np.ndarray:
        """Children's birth days (-1: none): mothers 15-39 (younger in older cohorts), both
        parents at least 18, fewer births where the pyramid is thin. Up to 4 tries."""
        base = np.where(mother_day < 14610, 23.0, np.where(mother_day < 21915, 25.0, 27.0))
        earliest = np.maximum(mother_day, father_day) + 6575
        born = np.full(n, -1, dtype=np.int64)
        for _ in range(4):
            day = mother_day + ((base + triangular() * 4.0) * year).astype(np.int64)
            accept = v.birth_accept[np.clip(day, 0, days - 1)]
            ok = (born < 0) & (day < days) & (day >= earliest) & (u(n) < accept)
            born = np.where(ok, day, born)
        return born

    # First child; for grandparents raising a grandchild (隔代), the absent parent stands in.
    skip = kind == _SKIP_GEN
    first_mother = np.where(skip, mother + years(23, 32), mother)
    first = birth_after(first_mother, np.where(skip, -1, father))
    first_ok = (first >= 0) & np.isin(
        kind, (_ONE_CHILD, _TWO_CHILDREN, _SINGLE_PARENT, _THREE_GEN, _SKIP_GEN, _FOUR)
    )
    # Second child: a sibling 1.5-8 years younger; in three generations a quarter have two;
    # in four generations (_FOUR) the first child's child.
    sibling = first + years(1.5, 8.0)
    second_three = birth_after(mother, father)
    grandchild = birth_after(np.where(first >= 0, first, 0), np.full(n, -1))
    second = np.where(
        kind == _TWO_CHILDREN, sibling, np.where(kind == _FOUR, grandchild, second_three)
    )
    second_ok = (
        ((kind == _TWO_CHILDREN) & first_ok & (sibling < days))
        | ((kind == _THREE_GEN) & flags(0.25) & (second_three >= 0))
        | ((kind == _FOUR) & first_ok & (grandchild >= 0))
    )
    first_male = flags(0.53)
    second_male = flags(0.53)
    # The head's parents (three generations); the father bears the head's surname.
    dad = head - years(24, 38)
    mum = dad + years(0, 4)
    both = flags(0.6)
    with_dad = both | flags(0.35)
    three = kind == _THREE_GEN
    dad_ok = three & with_dad & (dad >= 0) & (v.age[np.clip(dad, 0, days - 1)] <= 100)
    mum_ok = three & (both | ~with_dad) & (mum >= 0) & (v.age[np.clip(mum, 0, days - 1)] <= 100)
    is_family = kind != _COLLECTIVE
    size = 1 + has_partner + first_ok + second_ok + dad_ok + mum_ok
    other_ok = is_family & flags(0.02) & (size < 6)
    other = np.clip(head + years(-10, 10), 0, days - 1)

    grand_first = skip
    grand_second = kind == _FOUR
    columns = {
        "valid": (is_family, has_partner, first_ok, second_ok, dad_ok, mum_ok, other_ok),
        "day": (head, partner, first, second, dad, mum, other),
        "male": (
            head_male,
            ~head_male,
            first_male,
            second_male,
            np.ones(n, bool),
            np.zeros(n, bool),
            flags(0.5),
        ),
        "relation": (
            np.full(n, _HEAD),
            np.full(n, _SPOUSE),
            np.where(
                grand_first,
                np.where(first_male, _GRANDSON, _GRANDDAUGHTER),
                np.where(first_male, _SON, _DAUGHTER),
            ),
            np.where(
                grand_second,
                np.where(second_male, _GRANDSON, _GRANDDAUGHTER),
                np.where(second_male, _SON, _DAUGHTER),
            ),
            np.full(n, _FATHER),
            np.full(n, _MOTHER),
            np.full(n, _OTHER),
        ),
        "eth": (eth_head, eth_partner, eth_child, eth_child, eth_head, eth_head, eth_head),
        "family": (
            head_family,
            partner_family,
            family,
            family,
            head_family,
            v.surnames(eth_head, u(n)),
            v.surnames(eth_head, u(n)),
        ),
    }
    valid = np.stack(columns["valid"], axis=1)
    members = {
        name: np.stack(cols, axis=1)[valid] for name, cols in columns.items() if name != "valid"
    }
    members["household"] = np.broadcast_to(np.arange(n)[:, None], (n, _SLOTS))[valid]
    members["slot"] = np.broadcast_to(np.arange(_SLOTS)[None, :], (n, _SLOTS))[valid]

    # --- collective households (集体户): 5-60 people aged 17-45, all 其他 ------------------
    collective = np.flatnonzero(kind == _COLLECTIVE)
    sizes = 5 + (u(len(collective)) * u(len(collective)) * 56).astype(np.int64)
    count = int(sizes.sum())
    where = np.repeat(collective, sizes)
    eth = v.ethnic(k[where], u(count)) - k[where] * n_eth
    members_c = {
        "household": where,
        "slot": np.arange(count) - np.repeat(np.cumsum(sizes) - sizes, sizes),
        "day": v.collective_days(0, u(count)),
        "male": flags(0.6, count),
        "relation": np.full(count, _OTHER),
        "eth": eth,
        "family": v.surnames(eth, u(count)),
    }
    order = np.argsort(
        np.concatenate([members["household"], members_c["household"]]) * 64
        + np.concatenate([members["slot"], members_c["slot"]]),
        kind="stable",
    )
    merged = {name: np.concatenate([members[name], members_c[name]])[order] for name in members}
    merged["male"] = merged["male"].astype(np.int64)
    return {"households": households, "members": merged}


def _chunk_lines(
    t: _Tables, chunk: int, count: int, seed: int, chunk_size: int, lane: _Lane
) -> Iterator[list[str]]:
    """The CSV lines (each ending in "\\n") of chunk `chunk`: `count` people, in blocks.

    Vectorised: the chunk's households and members are drawn as numpy arrays; Python only
    joins the strings of each row."""
    v = _vectors()
    days = v.days
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed % 2**64, chunk])))
    # Only Generator.random (doubles from the PCG64 stream, both stable across numpy
    # versions) is used, so a seed means the same city on any numpy.
    u = rng.random
    # The few rows drawn one by one (Uyghur names, former names) use their own stream.
    names_rng = random.Random(f"servicehall-city:{seed}:{chunk}:names")

    # Households until there are enough people (a second batch is rare).
    batches, people, offset = [], 0, 0
    while people < count:
        n = max(16, int((count - people) / 2.3) + 32)
        batch = _household_batch(v, u, n)
        batch["members"]["household"] += offset
        batches.append(batch)
        people += len(batch["members"]["day"])
        offset += n
    households = {
        name: np.concatenate([b["households"][name] for b in batches])
        for name in batches[0]["households"]
    }
    m = {
        name: np.concatenate([b["members"][name] for b in batches])[:count]
        for name in batches[0]["members"]
    }
    used = int(m["household"][-1]) + 1 if count else 0
    households = {name: values[:used] for name, values in households.items()}

    # --- names ------------------------------------------------------------------------------
    day, male, eth, family = m["day"], m["male"], m["eth"], m["family"]
    mongol_style = (eth == _MONGOL) & (u(count) < _MONGOL_NAME_SHARE)
    table = np.where(
        eth == _KOREAN, 10 + male, np.where(mongol_style, 12 + male, v.cohort[day] * 2 + male)
    )
    given = v.given_strings[v.given(table, u(count))]
    rare = given == ""
    n_rare = int(rare.sum())
    if n_rare:
        given[rare] = (
            v.rare[(u(n_rare) * len(v.rare)).astype(np.int64)]
            + v.rare[(u(n_rare) * len(v.rare)).astype(np.int64)]
        )
    family = np.where(mongol_style | (eth == _UYGHUR), -1, family)
    surname = v.surname_strings[family]
    names = (surname + given).tolist()
    uyghurs = np.flatnonzero(eth == _UYGHUR)
    if len(uyghurs):
        _uyghur_names(v, names_rng, names, uyghurs, m)

    # Former names (~2 %): the same surname, another given name of the same style.
    former = [""] * count
    formers = np.flatnonzero((family >= 0) & (u(count) < 0.02))
    if len(formers):
        seconds = u(len(formers)) < 0.15
        old1 = v.given_strings[v.given(table[formers], u(len(formers)))]
        old2 = v.given_strings[v.given(table[formers], u(len(formers)))]
        for i, index in enumerate(formers.tolist()):
            olds = {old1[i], old2[i]} if seconds[i] else {old1[i]}
            own = given[index]
            kept = sorted(surname[index] + g for g in olds if g and g != own)
            former[index] = "|".join(kept)

    # --- ID numbers -------------------------------------------------------------------------
    age = v.age[day]
    region = households["k"][m["household"]].copy()
    elsewhere = u(count) < v.p_else[age]
    pick = u(count)
    region = np.where(elsewhere, v.elsewhere_regions[v.elsewhere(0, pick)], region)
    for ethnicity, share, draw, regions in (
        (_UYGHUR, 0.9, v.xinjiang, v.xinjiang_regions),
        (_KOREAN, 0.4, v.yanbian, v.yanbian_regions),
    ):
        special = elsewhere & (eth == ethnicity) & (u(count) < share)
        region = np.where(special, regions[draw(0, pick)], region)
    cell = (region * days + day) * 2 + male
    slot = _take_slots(v, lane, cell, region, day, male)
    region = cell // 2 // days
    seq = (v.slot_sequence[slot] + cell * 7919) % SEQ_SLOTS * 2 + male
    check = (v.region_sum[region] + v.date_sum[day] + v.seq_sum[seq]) % 11
    digits = np.empty((count, 18), dtype=np.uint8)
    digits[:, :6] = v.region_digits[region]
    digits[:, 6:14] = v.date_digits[day]
    digits[:, 14:17] = v.seq_digits[seq]
    digits[:, 17] = v.check_chars[check]
    ids = digits.view("S18").ravel().astype("U18").tolist()

    # --- status, phone ----------------------------------------------------------------------
    r = u(count)
    status = np.where(r >= v.p_gone[age], 0, np.where(r < v.p_dead[age], 1, 2))
    has_phone = u(count) < v.p_phone[age]
    first4 = v.digits4[(u(count) * 10000).astype(np.int64)]
    last4 = v.digits4[(u(count) * 10000).astype(np.int64)]
    phones = np.where(has_phone, PHONE_PREFIX + first4 + last4, "")

    # --- households: number, kind, address ---------------------------------------------------
    h = households
    k = h["k"]
    street_address = v.city_district[k] + v.streets[h["street"]] + v.numbers[h["house"]] + "号"
    flat = v.numbers[h["unit"]] + "单元" + v.numbers[h["floor"]] + v.rooms[h["room"]]
    collective = h["kind"] == _COLLECTIVE
    street_address = np.where(collective, street_address, street_address + flat)
    village_address = (
        v.city_district[k]
        + v.station_place[h["station"]]
        + v.village_names[h["village_name"]]
        + v.numbers[h["village_number"]]
        + "号"
    )
    address = np.where(h["village"], village_address, street_address)
    first_number = chunk * chunk_size
    numbers = [
        f"{code}{first_number + i:09d}" for i, code in enumerate(v.district_codes[k].tolist())
    ]
    kinds = np.where(collective, ",collective,", ",family,").astype(object)
    household_part = "," + _objects(numbers) + kinds
    place_part = "," + address + v.station_tail[h["station"]] + ","

    # --- rows -------------------------------------------------------------------------------
    household = m["household"]
    rows = [
        f"{a},{b},{c}{d}{e}{f}{g}{p},{s},{x}\n"
        for a, b, c, d, e, f, g, p, s, x in zip(
            ids,
            names,
            v.gender_ethnicity[male * len(ETHNICITIES) + eth].tolist(),
            v.iso[day].tolist(),
            household_part[household].tolist(),
            v.relations[m["relation"]].tolist(),
            place_part[household].tolist(),
            phones.tolist(),
            v.statuses[status].tolist(),
            former,
            strict=True,
        )
    ]
    for start in range(0, count, _BLOCK_ROWS):
        yield rows[start : start + _BLOCK_ROWS]


def _take_slots(v: _Vectors, lane: _Lane, cell: np.ndarray, region, day, male) -> np.ndarray:
    """Sequence slots for members in order: the cell's counter plus the member's rank among
    this chunk's members of the same cell. A member whose cell is full is recorded as born
    in the next region (never at 10M people); `cell` is updated in place then."""
    counts = lane.counts
    n = len(cell)
    if not n:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(cell, kind="stable")
    ordered = cell[order]
    first = np.empty(n, dtype=bool)
    first[0] = True
    first[1:] = ordered[1:] != ordered[:-1]
    positions = np.arange(n)
    rank_ordered = positions - np.maximum.accumulate(np.where(first, positions, 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = rank_ordered
    taken = counts[cell].astype(np.int64) + rank
    slot = taken * LANES + lane.lane
    starts = np.flatnonzero(first)
    group_sizes = np.diff(np.append(starts, n))
    unique = ordered[starts]
    counts[unique] = np.minimum(counts[unique].astype(np.int64) + group_sizes, 255).astype(np.uint8)
    days = v.days
    for index in np.flatnonzero(slot >= SEQ_SLOTS).tolist():
        r = int(cell[index]) // 2 // days
        while True:
            r = (r + 1) % v.n_regions
            moved = (r * days + int(day[index])) * 2 + int(male[index])
            free = int(counts[moved]) * LANES + lane.lane
            if free < SEQ_SLOTS:
                counts[moved] += 1
                cell[index], slot[index] = moved, free
                break
    return slot


def _uyghur_names(v: _Vectors, rng: random.Random, names: list[str], rows: np.ndarray, m) -> None:
    """Uyghur names: given·father's given name, at most 6 characters. In a family household
    the children carry their father's given name; everyone else a drawn one."""
    pools = v.uyghur_pools

    def pick(male: int, length: int) -> str:
        pool = pools[(male, length)]
        return pool[int(rng.random() * len(pool))]

    fathers: dict[int, str] = {}
    for index in rows.tolist():
        male = int(m["male"][index])
        relation = int(m["relation"][index])
        household = int(m["household"][index])
        father = fathers.get(household, "") if relation in (_SON, _DAUGHTER) else ""
        own = pick(male, 2 if len(father) == 3 or rng.random() < 0.6 else 3)
        if not father:
            father = pick(1, 2 if len(own) == 3 or rng.random() < 0.6 else 3)
        names[index] = own + MIDDLE_DOT + father
        if male and relation in (_HEAD, _SPOUSE):
            fathers[household] = own


def _chunks(people: int, chunk_size: int) -> list[tuple[int, int]]:
    return [(c, min(chunk_size, people - c * chunk_size)) for c in range(-(-people // chunk_size))]


def _lines(
    people: int, seed: int, chunk_size: int, only: Callable[[int], bool] | None = None
) -> Iterator[tuple[int, list[str]]]:
    """(chunk, block of lines) in chunk order, for the chunks `only` accepts."""
    t = _tables()
    lanes: dict[int, _Lane] = {}
    for chunk, count in _chunks(people, chunk_size):
        if only is not None and not only(chunk):
            continue
        lane_index = chunk % LANES
        lane = lanes.get(lane_index)
        if lane is None:
            lane = lanes[lane_index] = _Lane(lane_index, _vectors())
        for block in _chunk_lines(t, chunk, count, seed, chunk_size, lane):
            yield chunk, block


def iter_city(
    people: int, seed: int, *, chunk_size: int = CHUNK_PEOPLE
) -> Iterator[tuple[str, ...]]:
    """The city's rows, in file order, one at a time (constant memory)."""
    _check_arguments(people, chunk_size)
    for _, block in _lines(people, seed, chunk_size):
        for line in block:
            yield tuple(line[:-1].split(","))


def _check_arguments(people: int, chunk_size: int) -> None:
    if people < 0:
        raise ValueError("people must be >= 0")
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")


def _worker(people: int, seed: int, chunk_size: int, workers: int, index: int, out) -> None:
    """A worker process: the chunks whose lane it owns, as encoded blocks, then None per chunk."""
    try:
        last = None
        for chunk, block in _lines(
            people, seed, chunk_size, only=lambda c: (c % LANES) % workers == index
        ):
            if last is not None and chunk != last:
                out.put((last, None))
            last = chunk
            out.put((chunk, "".join(block).encode()))
        if last is not None:
            out.put((last, None))
    except BaseException as exc:  # report it to the parent rather than hang it
        out.put((-1, repr(exc)))
        raise


def _parallel_blocks(people: int, seed: int, chunk_size: int, workers: int) -> Iterator[bytes]:
    # fork where there is one: the children inherit the built tables and do not re-import
    # the caller's __main__ (spawn would, and scripts without a main guard break). They use
    # no database connection and no threads, so forking a Django process is safe here.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    _vectors()
    queues = [context.Queue(maxsize=32) for _ in range(workers)]
    processes = [
        context.Process(
            target=_worker, args=(people, seed, chunk_size, workers, i, queues[i]), daemon=True
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        for chunk, _count in _chunks(people, chunk_size):
            owner = (chunk % LANES) % workers
            while True:
                try:
                    got_chunk, data = queues[owner].get(timeout=5)
                except queue_module.Empty:
                    if not processes[owner].is_alive():
                        raise RuntimeError(f"city worker {owner} died") from None
                    continue
                if got_chunk == -1:
                    raise RuntimeError(f"city worker {owner} failed: {data}")
                if got_chunk != chunk:
                    raise RuntimeError(f"city worker {owner} sent chunk {got_chunk}, not {chunk}")
                if data is None:
                    break
                yield data
        for process in processes:
            process.join()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()


def write_city(
    out: str | os.PathLike | IO[bytes],
    people: int,
    seed: int,
    *,
    workers: int = 1,
    chunk_size: int = CHUNK_PEOPLE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the city's CSV to a path (atomically, via a .part file) or a binary file.

    `workers` > 1 generates in that many processes (useful from ~1M people); the output is
    the same. `progress` is called with the number of rows written so far, now and then.
    Returns the number of rows.
    """
    _check_arguments(people, chunk_size)
    workers = max(1, min(workers, LANES, -(-people // chunk_size) or 1))
    if workers > 1:
        blocks: Iterable[bytes] = _parallel_blocks(people, seed, chunk_size, workers)
    else:
        blocks = ("".join(block).encode() for _, block in _lines(people, seed, chunk_size))
    if hasattr(out, "write"):
        return _write_blocks(out, blocks, progress)
    path = Path(out)
    part = path.with_name(path.name + ".part")
    try:
        with open(part, "wb", buffering=1 << 20) as fh:
            rows = _write_blocks(fh, blocks, progress)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return rows


def _write_blocks(
    fh: IO[bytes], blocks: Iterable[bytes], progress: Callable[[int], None] | None
) -> int:
    fh.write((",".join(HEADER) + "\n").encode())
    rows = 0
    reported = 0
    for data in blocks:
        fh.write(data)
        rows += data.count(b"\n")
        if progress is not None and rows - reported >= 100_000:
            progress(rows)
            reported = rows
    if progress is not None:
        progress(rows)
    return rows


def city_text(people: int, seed: int) -> str:
    """The whole CSV as a string (small cities: demos and tests)."""
    buffer = io.BytesIO()
    write_city(buffer, people, seed)
    return buffer.getvalue().decode()
