/**
 * Places and years: administrative divisions recognised in questions and
 * documents (china-area-data), the sample corpus's fictional province by its
 * XX省 form, and the years a question names.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { documentPlace, namesYear, placeMentions, questionPlaces, questionYears, within } from '../../kb/places.ts';
import { parseFile } from '../../ingest/parse.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

describe('questionPlaces', () => {
  it('keeps the most specific division of each place a question names', () => {
    expect(questionPlaces('山东省济南市数字基础设施投资多少？').map((p) => p.name)).toEqual(['济南市']);
    expect(questionPlaces('泰州市海陵区审批服务热线是多少？')[0]).toMatchObject({ name: '海陵区', level: 3, province: '江苏省', city: '泰州市' });
    expect(questionPlaces('广西红十字会接收捐款账户')[0]).toMatchObject({ name: '广西壮族自治区', level: 1 });
    expect(questionPlaces('内江市近期去过武汉的人').map((p) => p.name)).toEqual(['内江市', '武汉市']);
  });

  it('reads a province the data set lacks from its XX省 form, and never 全省, 我省 or 省内', () => {
    expect(questionPlaces('东川省对购买新能源汽车有什么补贴？').map((p) => p.name)).toEqual(['东川省']);
    for (const text of ['全省城镇落户限制已全面取消', '关于省政协十二届三次会议第0215号提案的答复', '根据省政府要求', '加强省级统筹', '推动省委部署', '经与省财政厅协商', '我省每年培养的本专科毕业生', '在省内企业上班的硕士', '您在省政协会议上提出的提案', '其中省级财政']) {
      expect(placeMentions(text), text).toEqual([]);
    }
  });

  it('takes no street, market or brand for a town, no 和 + 县 for 和县, and no name inside another word', () => {
    // From the replies to citizens' messages (../shared/corpus/replies), once read as 朝阳市, 中山市 and 和县.
    for (const text of ['成才路与朝阳路的交叉口', '泰街街道中山路58号', '执法人员到朝阳市场开展整治', '关于提升“朝阳科技一条街”', '县卫生局和县计划生育局', '社会组织和县级以上人民政府', '各市和县人民政府']) {
      expect(placeMentions(text).map((m) => m.form), text).toEqual([]);
    }
    expect(placeMentions('辽宁省朝阳市人民政府').map((m) => m.form)).toEqual(['辽宁省', '朝阳市']);
    // A name starting inside another word (jieba: 确保|定点, 延|长春|节) is none; after another name it is (吉林长春).
    expect(placeMentions('确保定点医疗机构正常运转').map((m) => m.form)).toEqual([]);
    expect(placeMentions('上海市延长春节假期').map((m) => m.form)).toEqual(['上海市']);
    expect(placeMentions('吉林长春：公交实名制').map((m) => m.form)).toEqual(['吉林', '长春']);
    expect(placeMentions('陕西省政府在援企稳岗方面').map((m) => m.form)).toEqual(['陕西省']);
    expect(placeMentions('安徽省和县').map((m) => m.form)).toEqual(['安徽省']);
    expect(placeMentions('和县人民政府').map((m) => m.form)).toEqual(['和县']);
  });

  it('does not take planning words for counties (城区, 老城区, 新区)', () => {
    expect(placeMentions('城区排水管网和老城区雨污分流，青州新区').map((m) => m.form)).toEqual([]);
  });
});

describe('documentPlace', () => {
  it('reads each sample document of corpus/ as about 东川省 or its capital 青州市', () => {
    const corpus = path.resolve('corpus');
    const places = new Map<string, string | undefined>();
    for (const file of fs.readdirSync(corpus).filter((f) => /\.(txt|md)$/.test(f))) {
      places.set(file, documentPlace({ title: file, text: fs.readFileSync(path.join(corpus, file), 'utf8') })?.name);
    }
    expect(places.get('东川省医疗保障局2025年工作要点.txt')).toBe('东川省');
    expect(places.get('青州市城区内涝治理三年行动实施方案.md')).toBe('青州市');
    expect(places.get('对市人大十七届四次会议第0093号建议的答复-城区防洪排涝.txt')).toBe('青州市');
    expect(documentPlace({ issuer: '东川省人力资源和社会保障厅', title: '对省政协十二届三次会议第0137号提案的答复', text: '省会青州市及5个区域中心城市' })?.name).toBe('东川省');
  });

  it('puts a central body at national scope when no division is named', () => {
    expect(documentPlace({ issuer: '国务院办公厅', title: '关于进一步优化营商环境的意见' })).toEqual({ name: '全国', level: 0 });
    expect(documentPlace({ title: '会议纪要' })).toBeUndefined();
  });

  it('relates places by containment', () => {
    const jinan = questionPlaces('济南市')[0]!;
    const shandong = questionPlaces('山东省')[0]!;
    expect(within(jinan, shandong)).toBe(true);
    expect(within(shandong, jinan)).toBe(false);
    expect(within(jinan, { name: '全国', level: 0 })).toBe(true);
  });
});

describeWithSharedCorpus('documentPlace on documents of ../shared/corpus once misplaced', () => {
  const placeOf = async (file: string) => (await parseFile(sharedPath(file), { passageMaxChars: 300 })).metadata.place?.name;

  it('reads a national notice as national, not as the 新疆生产建设兵团 it is addressed to nor the 湖北 it excepts', async () => {
    // 人社部 财政部 税务总局: 各省、自治区、直辖市人民政府，新疆生产建设兵团： … 各省、自治区、直辖市（除湖北省外）
    expect(await placeOf('ncpqa/docs/10c51a1827333e9f84d4ae9da2e03e32.txt')).toBe('全国');
    expect(await placeOf('ncpqa/docs/68fbe8c31157378882672580f57ea9d2.txt')).toBe('全国');
    // 国家税务总局各省、自治区、直辖市和计划单列市税务局 … 除湖北省外，纳税申报期限进一步延至2月28日
    expect(await placeOf('ncpqa/docs/227710a3360b33e4b399d03b5c746ef9.txt')).toBe('全国');
  });

  it('takes no common word before 省 for a province (建设省办公业务资源库)', async () => {
    expect(await placeOf('policies/shandong/022.txt')).toBe('山东省');
    expect(placeMentions('建设省办公业务资源库').map((m) => m.form)).toEqual([]);
  });

  it('reads a round-up of many provinces as about none of them', async () => {
    // 各地人社部门密集出台系列惠企惠民政策: 上海, 天津, 山西, 山东, 四川, 安徽, 福建, 湖南 … none leads
    expect(await placeOf('ncpqa/docs/2ba59a4e39cf329cbe0d54a97f6b4371.txt')).toBeUndefined();
    // A place's own document naming other provinces stays its own (a 深圳市 one).
    expect(await placeOf('ncpqa/docs/e54ea064692c322a88dca26d36410f3d.txt')).toBe('深圳市');
  });
});

describe('years', () => {
  it('reads written and relative years', () => {
    const now = new Date('2026-03-01T00:00:00Z');
    expect(questionYears('青州市2025年地区生产总值增长目标是多少？', now)).toEqual([2025]);
    expect(questionYears('今年的补贴标准', now)).toEqual([2026]);
    expect(questionYears('补贴3000元', now)).toEqual([]);
    expect(questionYears('今年和2025年的补贴标准', null)).toEqual([2025]);
    expect(namesYear('行动方案（2025—2027年）', 2026)).toBe(true);
    expect(namesYear('2024年全省', 2025)).toBe(false);
  });
});
