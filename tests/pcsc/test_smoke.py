from hcekit import Claim, IsoError, SW

class Echo:
    name = "echo"
    def hcekit_claims(self, plugin): return [Claim.parse("F00102030405", description="echo")]
    def hcekit_select(self, app, command): return b"\x6f\x00"
    def hcekit_process(self, app, command):
        if command.ins == 0x02: raise IsoError(SW.FILE_NOT_FOUND)
        return command.data

def test_smoke(pcsc_card):
    c = pcsc_card([Echo()])
    r = c.terminal.select(bytes.fromhex("F00102030405"))
    assert r.sw == 0x9000, r
    assert c.terminal.transmit("00010000 03 010203 00").data == b"\x01\x02\x03"
    print(c.reader, c.transport.atr.hex(), c.reader_index)
