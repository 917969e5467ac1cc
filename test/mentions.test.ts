import { MAX_NAMED_MENTIONS, parseMentions } from '../src/attention/mentions';

const names = (body: string) => parseMentions(body).named.map((mention) => mention.keys);

describe('mention parser', () => {
  it('finds @username case-insensitively, in order of first mention, once each', () => {
    expect(names('hi @Alice and @bob_2, then @ALICE again')).toEqual([['alice'], ['bob_2']]);
    expect(parseMentions('@carol').named).toEqual([{ ord: 0, keys: ['carol'] }]);
  });

  it('ends a name at punctuation; a trailing dot or dash may be either the name or the sentence', () => {
    expect(names('thanks @bob, @carol! (@dave) @erin: @frank?')).toEqual([['bob'], ['carol'], ['dave'], ['erin'], ['frank']]);
    expect(names('ask @bob.')).toEqual([['bob.', 'bob']]);
    expect(names('@bob... and @bob')).toEqual([['bob...', 'bob']]);
    expect(names('@j.doe is here')).toEqual([['j.doe']]);
  });

  it('does not take e-mail addresses for mentions', () => {
    expect(parseMentions('write to a@b.com or first.last+tag@example.org').named).toEqual([]);
    expect(names('mail bob@example.com, ping @carol')).toEqual([['carol']]);
    expect(names('@bob@example.com')).toEqual([]);
  });

  it('skips what cannot be a username', () => {
    expect(names('@ab @ @! @@ x@ @' + 'a'.repeat(33))).toEqual([]);
    expect(parseMentions('no mentions here').named).toEqual([]);
  });

  it('knows @channel and @here, in any case and before punctuation', () => {
    expect(parseMentions('@channel')).toMatchObject({ channel: true, here: false, named: [] });
    expect(parseMentions('hey @HERE, look')).toMatchObject({ channel: false, here: true });
    expect(parseMentions('@Channel. and @here!')).toMatchObject({ channel: true, here: true });
    expect(parseMentions('email x@channel.com')).toMatchObject({ channel: false, here: false });
  });

  it('looks up at most MAX_NAMED_MENTIONS names', () => {
    const body = Array.from({ length: MAX_NAMED_MENTIONS + 20 }, (_, i) => `@user${i}`).join(' ');
    expect(parseMentions(body).named).toHaveLength(MAX_NAMED_MENTIONS);
  });
});
