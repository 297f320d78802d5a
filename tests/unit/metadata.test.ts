import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findDocNumber, readFrontMatterHints, replyTitle, titleFromSource, toIsoDate } from '../../ingest/metadata.ts';
import { parseRecordText } from '../../ingest/parse.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

describe('metadata rules', () => {
  it('normalises every bracket variant of a 文号 to 〔〕', () => {
    expect(findDocNumber('吉人社函〔2024〕126号')).toBe('吉人社函〔2024〕126号');
    expect(findDocNumber('发改办财金规[2019]860号')).toBe('发改办财金规〔2019〕860号');
    expect(findDocNumber('穗府办规（2024）13 号')).toBe('穗府办规〔2024〕13号');
    expect(findDocNumber('国办发【2020】 6号')).toBe('国办发〔2020〕6号');
    expect(findDocNumber('2024年7月15日')).toBeUndefined();
  });

  it('reads dates with spaces, Chinese numerals and ISO forms', () => {
    expect(toIsoDate('2024 年 7月 15 日')).toBe('2024-07-15');
    expect(toIsoDate('二〇二四年十二月三十日')).toBe('2024-12-30');
    expect(toIsoDate('2019-07-01')).toBe('2019-07-01');
    expect(toIsoDate('2024年13月1日')).toBeUndefined();
  });

  it('reads the keyed front matter of the policy collection, and leaves Markdown headings alone', () => {
    const { hints, consumed } = readFrontMatterHints(['# Notice on X', '# department: Ministry of Y', '# date: 2024-09-02', '# source: https://a.b/c', '', '各相关单位:']);
    expect(consumed).toBe(5);
    expect(hints).toEqual({ englishTitle: 'Notice on X', department: 'Ministry of Y', date: '2024-09-02', source: 'https://a.b/c' });
    expect(readFrontMatterHints(['# 一、总体要求', '正文']).consumed).toBe(0);
  });

  it('keeps a citizen-message reply as kind other', () => {
    const doc = parseRecordText('网友：您好！\n您反映的问题已收悉，经核查，该路段路灯已于3月5日修复。\n感谢您的监督。', 'replies.jsonl#12', { passageMaxChars: 300, title: '关于某路段路灯不亮的问题' });
    expect(doc.kind).toBe('other');
    expect(doc.title).toBe('关于某路段路灯不亮的问题');
    expect(doc.file).toBe('replies.jsonl#12');
    // The record's first line is text, not a title: it is in the passages.
    expect(doc.paragraphs.every((p) => p.role === 'body')).toBe(true);
    expect(doc.passages[0]!.text.startsWith('网友：您好！')).toBe(true);
  });
});

describeWithSharedCorpus('metadata: policy files with front matter', () => {
  it('drops the front-matter lines from the text and prefers the signed date to the hint', async () => {
    const { parseExtracted } = await import('../../ingest/parse.ts');
    const raw = fs.readFileSync(sharedPath('policies/central/003.txt'), 'utf8');
    const doc = parseExtracted({ format: 'txt', paged: false, linesAreParagraphs: false, pages: [{ number: 1, lines: raw.split('\n').map((text) => ({ text })) }], warnings: [] }, 'policies/central/003.txt', { passageMaxChars: 300 });
    expect(doc.kind).toBe('policy');
    // The file says "# date: 2024-09-02" (its web publication); the letter is signed 2013年4月11日.
    expect(doc.metadata.date).toBe('2013-04-11');
    expect(doc.metadata.issuer).toBe('工业和信息化部');
    expect(doc.text).not.toContain('Notice on Strengthening');
    expect(doc.text).not.toContain('# department');
  });
});

describe('metadata: titles in Chinese and by subject', () => {
  it('takes the Chinese title a legal database link carries, and only a title-like one', () => {
    const link = (keyword: string) => `https://www.pkulaw.com/lar/e5ba11f4.html?keyword=${encodeURIComponent(keyword)}&way=listView`;
    expect(titleFromSource(link('山东省人民政府办公厅关于开展 “智慧山东” 试点工作的意见'))).toBe('山东省人民政府办公厅关于开展“智慧山东”试点工作的意见');
    expect(titleFromSource(link('《山东省制造业创新能力提升三年行动计划（2023—2025 年）》'))).toBe('山东省制造业创新能力提升三年行动计划（2023—2025年）');
    expect(titleFromSource(link('关于加快推进数字经济创新发展的若干措施》'))).toBe('关于加快推进数字经济创新发展的若干措施');
    expect(titleFromSource(link('人工智能'))).toBeUndefined();
    expect(titleFromSource('PKU Law Database')).toBeUndefined();
    expect(titleFromSource('http://kjt.shandong.gov.cn/')).toBeUndefined();
  });

  it('names a reply by the proposal it answers, keeping the number; a title naming its subject stays', () => {
    const meta = { proposalTitle: '关于加强我省创新创业人才队伍建设的建议' };
    expect(replyTitle('对省政协十三届二次会议第26号委员提案的答复', 'proposal-reply', meta)).toBe('关于加强我省创新创业人才队伍建设的建议（第26号提案）的答复');
    expect(replyTitle('青州市教育局对市人大十七届四次会议第0056号建议的答复', 'suggestion-reply', { proposalTitle: '关于增加学位的建议' })).toBe('关于增加学位的建议（第0056号建议）的答复');
    expect(replyTitle('关于对《关于加强我省创新创业人才队伍建设的建议》的答复', 'proposal-reply', meta)).toBe('关于对《关于加强我省创新创业人才队伍建设的建议》的答复');
    expect(replyTitle('对省政协十三届二次会议第26号委员提案的答复', 'proposal-reply', {})).toBe('对省政协十三届二次会议第26号委员提案的答复');
    expect(replyTitle('关于印发某办法的通知', 'policy', meta)).toBe('关于印发某办法的通知');
  });
});

describeWithSharedCorpus('metadata: the Shandong policy files are titled and issued in Chinese where they say so', () => {
  const dir = sharedPath('policies/shandong');
  const parseAll = async () => {
    const { parseBytes } = await import('../../ingest/parse.ts');
    const docs = [];
    for (const name of fs.readdirSync(dir).sort()) docs.push(await parseBytes(new Uint8Array(fs.readFileSync(`${dir}/${name}`)), `policies/shandong/${name}`, { passageMaxChars: 300 }));
    return docs;
  };

  it('never shows the English `# title` line when the text or its link gives a Chinese title', async () => {
    const docs = await parseAll();
    expect(docs).toHaveLength(55);
    const han = /\p{Script=Han}/u;
    const english = docs.filter((d) => !han.test(d.title));
    // 41 of the 55 were titled in English before; what remains has no Chinese title in its text or its link.
    expect(docs.length - english.length).toBeGreaterThanOrEqual(25);
    for (const doc of english) {
      const raw = fs.readFileSync(`${dir}/${doc.file.split('/').pop()}`, 'utf8');
      const source = /^# source: (.*)$/m.exec(raw)?.[1];
      expect(titleFromSource(source), doc.file).toBeUndefined();
      expect(doc.paragraphs.some((p) => p.role === 'title'), doc.file).toBe(false);
    }
    const byFile = new Map(docs.map((d) => [d.file, d]));
    expect(byFile.get('policies/shandong/001.txt')).toMatchObject({ title: '山东省人民政府办公厅关于开展“智慧山东”试点工作的意见', metadata: { issuer: '山东省人民政府办公厅' } });
    expect(byFile.get('policies/shandong/042.txt')!.metadata.issuer).toBe('青岛市人民政府办公厅');
    // The 印发 line under the 抄送 block names the organ in Chinese.
    expect(byFile.get('policies/shandong/006.txt')!.metadata.issuer).toBe('山东省人民政府办公厅');
    expect(byFile.get('policies/shandong/009.txt')!.metadata.issuer).toBe('山东省人民政府办公厅');
  });

  it('gives the issuer in Chinese when only the `# department:` line names it, in English', async () => {
    const docs = await parseAll();
    const han = /\p{Script=Han}/u;
    // 46 of the 55 gave the English department before; the one left names a district this reader cannot place.
    expect(docs.filter((d) => !han.test(String(d.metadata.issuer ?? ''))).map((d) => d.file)).toEqual(['policies/shandong/043.txt']);
    const issuer = (file: string) => docs.find((d) => d.file === `policies/shandong/${file}`)!.metadata.issuer;
    expect(issuer('002.txt')).toBe('山东省人民政府');
    expect(issuer('004.txt')).toBe('山东省经济和信息化委员会');
    // A city's organ takes its place from the Chinese text (济南市), a province's from its pinyin; 厅 for a province, 局 for a city.
    expect(issuer('014.txt')).toBe('济南市科学技术局');
    expect(issuer('039.txt')).toBe('山东省科学技术厅');
    expect(issuer('024.txt')).toBe('济南市人民政府办公厅');
    // Joint issuers; "and" inside a name ("Science and Technology") does not split it.
    expect(issuer('052.txt')).toBe('山东省科学技术厅、山东省工业和信息化厅、山东省大数据局');
    expect(issuer('055.txt')).toBe('山东省科学技术厅等十八部门');
    // The text's own form: 山东煤矿安全监察局 has no 省.
    expect(issuer('017.txt')).toBe('山东煤矿安全监察局、山东省能源局');
    expect(issuer('026.txt')).toBe('中国证券监督管理委员会');
  });
});

describe('metadata: bylines', () => {
  it('splits a byline into 文号, organ and date, and refuses lines with other parts', async () => {
    const { readByline } = await import('../../ingest/structure.ts');
    expect(readByline('青政办发〔2025〕14号 · 青州市人民政府办公室 · 2025年4月8日印发'))
      .toEqual({ docNumber: '青政办发〔2025〕14号', issuer: '青州市人民政府办公室', date: '2025年4月8日' });
    expect(readByline('国家发展改革委 | 2024-05-01')).toEqual({ issuer: '国家发展改革委', date: '2024-05-01' });
    expect(readByline('张三 · 李四')).toBeUndefined();
    expect(readByline('青州市人民政府办公室')).toBeUndefined();
  });
});

describeWithSharedCorpus('metadata: 印发 notices on the web', () => {
  it('dates a notice by its signing date above the attached 办法, not by the 印发 line at the foot', async () => {
    const { parseFile } = await import('../../ingest/parse.ts');
    const doc = await parseFile(sharedPath('policies/html/11_公共租赁住房保障办法_穗府办规2024-13号.html'), { passageMaxChars: 300 });
    expect(doc.metadata.date).toBe('2024-07-26');
    expect(doc.metadata.issuer).toBe('广州市人民政府办公厅');
  });
});

describeWithSharedCorpus('metadata: a joint masthead', () => {
  it('takes the issuers from the masthead when the sign-off kept only half a name', async () => {
    const { parseFile } = await import('../../ingest/parse.ts');
    const doc = await parseFile(sharedPath('policies/shandong/032.txt'), { passageMaxChars: 300 });
    expect(doc.title).toBe('关于印发《济南市智能网联汽车道路测试与示范应用管理办法（试行）》的通知');
    expect(doc.metadata.issuer).toBe('济南市工业和信息化局、济南市公安局、济南市城乡交通运输局');
    expect(doc.metadata.addressee).toBe('各相关单位');
    // Where the signing lines are whole, they win: the joint masthead line is not split.
    const ndrc = await parseFile(sharedPath('pdf/发改办财金规〔2019〕860号.pdf'), { passageMaxChars: 300 });
    expect(ndrc.metadata.issuer).toBe('国家发展改革委办公厅、税务总局办公厅');
  });
});

describe('metadata: joint issuers on one line', () => {
  it('splits organs of one city at each repetition of its name, and leaves other names whole', async () => {
    const { splitJointOrgans } = await import('../../ingest/metadata.ts');
    expect(splitJointOrgans('青州市民政局青州市财政局青州市市场监督管理局')).toEqual(['青州市民政局', '青州市财政局', '青州市市场监督管理局']);
    expect(splitJointOrgans('青州市人民政府办公厅')).toEqual(['青州市人民政府办公厅']);
    expect(splitJointOrgans('发展改革委办公厅税务总局办公厅')).toEqual(['发展改革委办公厅税务总局办公厅']);
  });
});

describeWithSharedCorpus('metadata: a 印发 notice whose title is only in the page <title>', () => {
  it('finds the covering sign-off and its joint issuers', async () => {
    const { parseFile } = await import('../../ingest/parse.ts');
    const doc = await parseFile(sharedPath('policies/html/30_老年人助餐配餐服务管理办法_穗民规字2024-3号.html'), { passageMaxChars: 300 });
    expect(doc.metadata).toMatchObject({ issuer: '广州市民政局、广州市财政局、广州市市场监督管理局', date: '2024-03-14', docNumber: '穗民规字〔2024〕3号' });
  });
});

describe('metadata: regulations dated by their caption', () => {
  it('takes the latest date of the caption under the title, and drops Markdown comments', async () => {
    const { parseExtracted } = await import('../../ingest/parse.ts');
    const md = (lines: string[]) => parseExtracted({ format: 'md', paged: false, linesAreParagraphs: false, pages: [{ number: 1, lines: lines.map((text) => ({ text })) }], warnings: [] }, 'x.md', { passageMaxChars: 300 });
    const amended = md(['# 某市志愿服务条例', '', '2015年5月28日 某市第四届人民代表大会常务委员会第十八次会议通过 2020年7月30日 某市第五届人民代表大会常务委员会第二十次会议修正', '', '<!-- INFO END -->', '', '## 第一章 总 则', '', '第一条 为了弘扬志愿精神，制定本条例。']);
    expect(amended.metadata.date).toBe('2020-07-30');
    expect(amended.text).not.toContain('INFO END');
    const decree = md(['# 某某登记管理条例', '', '（2021年7月27日中华人民共和国国务院令第746号公布）', '', '第一条 为了规范登记管理行为，制定本条例。']);
    expect(decree.metadata.date).toBe('2021-07-27');
  });
});

describe('metadata: sign-offs as web copies print them', () => {
  const signOff = async (texts: string[]) => {
    const { structureDocument } = await import('../../ingest/structure.ts');
    const { extractMetadata } = await import('../../ingest/metadata.ts');
    const doc = structureDocument(texts.map((text) => ({ text })));
    return extractMetadata(doc.paragraphs, doc.title, { file: 'x.txt' }).metadata;
  };

  it('splits organ and date run into one line, joins a wrapped organ name, unwraps 代章', async () => {
    expect(await signOff(['关于暂停办理某业务的通告', '因疫情防控需要，即日起暂停办理某业务。', '特此通告。', '商务部办公厅2020年2月7日 [网络编辑：某某]']))
      .toMatchObject({ issuer: '商务部办公厅', date: '2020-02-07' });
    expect(await signOff(['关于做好捐赠工作的通知', '各单位要规范接收捐赠款物。', '某省新型冠状病毒感染的肺炎', '疫情防控工作领导小组办公室', '2020年2月7日']))
      .toMatchObject({ issuer: '某省新型冠状病毒感染的肺炎疫情防控工作领导小组办公室', date: '2020-02-07' });
    expect(await signOff(['关于某事项的通知', '请各地认真执行。', '国务院扶贫办', '财政部', '2020年2月17日'])).toMatchObject({ issuer: '国务院扶贫办、财政部' });
    expect(await signOff(['关于某事项的通知', '请各地认真执行。', '（国家粮食局办公室代章）', '2018年5月2日'])).toMatchObject({ issuer: '国家粮食局办公室' });
  });
});
