/**
 * Titles that containers state (PDF Info, DOCX core properties, HTML
 * <title>) are often leftovers: the Word file name the PDF was printed from,
 * "Microsoft Word - 新建文档.doc", a template's "无标题". Only a title that
 * still says something is passed on as a hint.
 */

export function cleanContainerTitle(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const title = raw
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/^\s*microsoft\s+(word|excel|powerpoint)\s*-\s*/i, '')
    .replace(/\.(docx?|wps|pdf|xlsx?|txt|rtf|html?)\s*$/i, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (!title) return undefined;
  if (/^(untitled|无标题|document\d*|文档\d*|新建\S*文档\d*|标题|title|PowerPoint 演示文稿)$/i.test(title)) return undefined;
  if (!/[\p{L}\p{N}]/u.test(title)) return undefined;
  return title;
}
